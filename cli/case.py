"""`casework case ...`: open, allocate, record, move, can, show, history, list."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from .app import State, emit, emit_json, pass_state
from .options import When, as_option, json_option
from .output import case_text, history_text, table, verdict_text

if TYPE_CHECKING:
    from casework.workflow.service import MoveResult

__all__ = ["case"]

_at = click.option("--at", "at", type=When(), help="When it happened (default now; never in the future).")
_expect = click.option("--expect-version", type=int, metavar="N",
                       help="Refuse with exit 3 unless the case is still at version N.")


@click.group()
def case() -> None:
    """Open, allocate, record on, move and inspect cases."""


def _done(result: MoveResult, as_json: bool) -> None:
    if as_json:
        emit_json({"verdict": result.verdict.to_dict(), "case": result.case})
    else:
        click.echo(case_text(result.case))


@case.command("open")
@click.argument("case_id", metavar="CASE")
@click.option("--policy", required=True, help="Protocol name (see `casework policy list`).")
@click.option("--team", required=True)
@as_option
@_at
@json_option
@pass_state
def open_(state: State, case_id: str, policy: str, team: str, actor: str, at: datetime | None, as_json: bool) -> None:
    """Open CASE in its protocol's first state (a referral)."""
    from casework.workflow import service

    data = service.open_case(state.cw, case_id, policy, team, actor, at)
    emit(data, as_json, lambda: case_text(data))


@case.command()
@click.argument("case_id", metavar="CASE")
@click.option("--lead", required=True, metavar="STAFF", help="The lead practitioner.")
@click.option("--supervisor", metavar="STAFF", help="Named supervisor (kept if not given).")
@click.option("--no-supervisor", is_flag=True, help="Remove the supervisor.")
@click.option("--worker", metavar="STAFF", help="Worker alongside the lead, e.g. a student (kept if not given).")
@click.option("--no-worker", is_flag=True, help="Remove the worker.")
@as_option
@click.option("--reason", help="Why (kept in the audit log).")
@_at
@_expect
@json_option
@pass_state
def allocate(state: State, case_id: str, lead: str, supervisor: str | None, no_supervisor: bool,
             worker: str | None, no_worker: bool, actor: str, reason: str | None, at: datetime | None,
             expect_version: int | None,
             as_json: bool) -> None:
    """Allocate or reallocate CASE to a lead practitioner."""
    from casework.workflow import service

    sup = None if no_supervisor else (supervisor or service.KEEP)
    wrk = None if no_worker else (worker or service.KEEP)
    _done(service.allocate(state.cw, case_id, lead, actor, supervisor=sup, worker=wrk, reason=reason, at=at,
                           expected_version=expect_version), as_json)


@case.command()
@click.argument("case_id", metavar="CASE")
@click.argument("fact")
@as_option
@click.option("--with", "with_staff", multiple=True, metavar="STAFF", help="Someone who took part (repeatable).")
@click.option("--note", default="", help="Free text kept with the fact.")
@_at
@_expect
@json_option
@pass_state
def record(state: State, case_id: str, fact: str, actor: str, with_staff: tuple[str, ...], note: str,
           at: datetime | None, expect_version: int | None, as_json: bool) -> None:
    """Record FACT on CASE (a visit, an approval, a rationale...)."""
    from casework.workflow import service

    _done(service.record_fact(state.cw, case_id, fact, actor, with_staff=with_staff, note=note, at=at,
                              expected_version=expect_version), as_json)


@case.command()
@click.argument("case_id", metavar="CASE")
@click.argument("event")
@as_option
@click.option("--reason", help="Why (kept in the audit log; some moves require it).")
@_at
@_expect
@json_option
@pass_state
def move(state: State, case_id: str, event: str, actor: str, reason: str | None, at: datetime | None,
         expect_version: int | None,
         as_json: bool) -> None:
    """Move CASE by EVENT, if the protocol allows it."""
    from casework.workflow import service

    _done(service.move_case(state.cw, case_id, event, actor, reason=reason, at=at,
                            expected_version=expect_version), as_json)


@case.command()
@click.argument("case_id", metavar="CASE")
@click.argument("event", required=False)
@as_option
@click.option("--allocate", "allocate", metavar="[STAFF]", is_flag=False, flag_value="",
              help="Preview an allocation instead of a move: --allocate --lead STAFF (or --allocate STAFF), "
                   "with --supervisor, --worker.")
@click.option("--lead", metavar="STAFF", help="With --allocate: the lead named.")
@click.option("--supervisor", metavar="STAFF", help="With --allocate: the supervisor named (kept if not given).")
@click.option("--no-supervisor", is_flag=True, help="With --allocate: without a supervisor.")
@click.option("--worker", metavar="STAFF", help="With --allocate: the worker named (kept if not given).")
@click.option("--no-worker", is_flag=True, help="With --allocate: without a worker.")
@click.option("--record", "fact", metavar="FACT", help="Preview recording FACT (with --note, --with) instead of a move.")
@click.option("--reason", help="The reason the move or allocation would give.")
@click.option("--note", default="", help="With --record: the note it would carry.")
@click.option("--with", "with_staff", multiple=True, metavar="STAFF", help="With --record: who took part.")
@_at
@json_option
@pass_state
def can(state: State, case_id: str, event: str | None, actor: str, allocate: str | None, lead: str | None,
        supervisor: str | None, no_supervisor: bool, worker: str | None, no_worker: bool, fact: str | None,
        reason: str | None, note: str, with_staff: tuple[str, ...], at: datetime | None, as_json: bool) -> None:
    """What ACTOR may do to CASE now, what is missing, and who could do it.

    Given the same options, the verdict is the one `case move`, `case allocate` or `case record` would give:
    what they need and was not given (a reason, a note, the people taking part) is listed as such."""
    from casework.workflow import service

    if allocate and lead and allocate != lead:
        raise click.UsageError(f"--allocate {allocate} and --lead {lead} name two leads; give one.")
    if allocate is not None or lead is not None:
        lead = allocate or lead
        if not lead:
            raise click.UsageError("Name the lead: --allocate --lead STAFF.")
    if sum(x is not None and x != "" for x in (event, lead, fact)) > 1:
        raise click.UsageError("Give an EVENT, --allocate STAFF or --record FACT, not more than one.")
    if lead is None and (supervisor or no_supervisor or worker or no_worker):
        raise click.UsageError("--supervisor and --worker go with --allocate STAFF.")
    if fact is None and (note or with_staff):
        raise click.UsageError("--note and --with go with --record FACT.")
    if lead is not None:
        sup = None if no_supervisor else (supervisor or service.KEEP)
        wrk = None if no_worker else (worker or service.KEEP)
        verdicts = [service.preview_allocation(state.cw, case_id, lead, actor, supervisor=sup, worker=wrk,
                                               reason=reason, at=at)]
    elif fact is not None:
        verdicts = [service.preview_record(state.cw, case_id, fact, actor, with_staff=with_staff, note=note, at=at)]
    else:
        verdicts = ([service.explain(state.cw, case_id, event, actor, at, reason=reason)] if event
                    else service.available(state.cw, case_id, actor, at, reason=reason))
    if as_json:
        emit_json({"case": case_id, "actor": actor, "events": [v.to_dict() for v in verdicts]})
    else:
        click.echo("\n".join(verdict_text(v) for v in verdicts) or "No moves leave this state.")


@case.command()
@click.argument("case_id", metavar="CASE")
@click.argument("code", metavar="REASON")
@as_option
@click.option("--note", help="Words of your own, kept with the reason in the audit log.")
@_at
@_expect
@json_option
@pass_state
def close(state: State, case_id: str, code: str, actor: str, note: str | None, at: datetime | None,
          expect_version: int | None, as_json: bool) -> None:
    """Close CASE for REASON, a closure reason of its protocol (national: the CIN census codes RC1 to RC9,
    listed by `casework policy show`); the move it leads to is judged as `case move` judges it."""
    from casework.workflow import service

    result = service.close_case(state.cw, case_id, code, actor, note=note, at=at, expected_version=expect_version)
    if as_json:
        _done(result, as_json)
    else:
        click.echo(case_text(service.show_case(state.cw, case_id)))


@case.command()
@click.argument("case_id", metavar="CASE")
@click.option("--team", required=True, help="The receiving team (one the store declares).")
@as_option
@click.option("--reason", help="Why (kept in the audit log; required).")
@_at
@_expect
@json_option
@pass_state
def transfer(state: State, case_id: str, team: str, actor: str, reason: str | None, at: datetime | None,
             expect_version: int | None, as_json: bool) -> None:
    """Transfer CASE to another team, if ACTOR may allocate it (its holders stay until that team reallocates)."""
    from casework.workflow import service

    _done(service.transfer_case(state.cw, case_id, team, actor, reason=reason, at=at,
                                expected_version=expect_version), as_json)


@case.command()
@click.argument("case_id", metavar="CASE")
@json_option
@pass_state
def show(state: State, case_id: str, as_json: bool) -> None:
    """Where CASE stands: state, holders, version and facts."""
    from casework.workflow import service

    data = service.show_case(state.cw, case_id)
    emit(data, as_json, lambda: case_text(data))


@case.command()
@click.argument("case_id", metavar="CASE")
@json_option
@pass_state
def history(state: State, case_id: str, as_json: bool) -> None:
    """Every audited action on CASE, refused attempts included."""
    from casework.workflow import service

    entries = service.case_history(state.cw, case_id, words=not as_json)
    emit(entries, as_json, lambda: history_text(entries))


@case.command("list")
@click.option("--state", "state_name", help="Only cases in this state.")
@click.option("--team", help="Only cases of this team.")
@click.option("--lead", metavar="STAFF", help="Only cases STAFF (an id, or a person's name) leads.")
@click.option("--supervisor", metavar="STAFF", help="Only cases STAFF supervises.")
@click.option("--worker", metavar="STAFF", help="Only cases STAFF works alongside the lead.")
@json_option
@pass_state
def list_(state: State, state_name: str | None, team: str | None, lead: str | None, supervisor: str | None,
          worker: str | None, as_json: bool) -> None:
    """List cases (`casework mine --as STAFF` shows your own, with what is due and what you may do)."""
    from casework.workflow import service

    rows = service.list_cases(state.cw, state_name, team, lead=lead, supervisor=supervisor, worker=worker)
    if as_json:
        emit_json(rows)
    else:
        click.echo(table([[r["id"], r["policy"], r["team"], r["state_title"], r["lead_id"] or "-",
                           r["supervisor_id"] or "-", r["worker_id"] or "-"] for r in rows],
                         ["case", "protocol", "team", "stage", "lead", "supervisor", "worker"]) if rows
                   else "No cases match.")
