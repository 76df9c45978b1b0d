"""Transferring a case to another team: who may, and the one unit of work that makes it.

A case's team decides whose managers act on it and which pilots apply, so a transfer is
judged like an allocation: by the protocol's ``allocation.who`` (the case's supervisor, its
team's managers, a service manager), on the case as it stands, with a reason for the
audit log. The receiving team must be one the store declares (workflow.team_names). The
holders stay: the receiving team's manager then reallocates under that team's rules, and
until then the case shows under its new team.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial

from casework.store import records

from . import due_dates, identity
from .case_views import summary
from .clock import day_of, to_text
from .definition import Definition
from ..errors import BadInput, TransferRefused
from .hydrate import load_case_and_actor
from .judging import check_version, judged, pin_mark, pinned, settled, timing, write_audit
from .people import Case, Staff
from .results import MoveResult
from .requirements import Context
from .requirements.actor import WhoMayAct
from .team_names import checked_team
from .units import unit_of_work, when
from .verdict import Unmet, Verdict, cited
from .workspace import Casework

__all__ = ["explain_transfer", "transfer_case"]


def explain_transfer(definition: Definition, case: Case, actor: Staff, at: datetime, team: str,
                     reason: str | None = None, staff: tuple[Staff, ...] | None = None) -> Verdict:
    """May *actor* move *case* to *team* now? Whoever may allocate it may, giving a reason, while it is open."""
    alloc = definition.allocation
    rules = alloc.rules or ("WT-4",)
    ctx = Context(case, actor, at, day_of(at), definition, reason, staff)
    unmet: list[Unmet] = []
    who = WhoMayAct.of(alloc.who, alloc.rules).unmet(ctx)
    if who is not None:
        unmet.append(who)
    if not definition.states[case.state].open:
        unmet.append(Unmet("state", f"case {case.id} is closed ({definition.states[case.state].title})", rules,
                           "A closed case is not transferred."))
    if not (reason and reason.strip()):
        unmet.append(Unmet("reason_given", "A reason must be given", ("WT-7",), "Give the reason with --reason.",
                           argument="--reason"))
    return Verdict("transfer", case.id, "transfer", case.state, case.state, actor.id, not unmet,
                   cited(unmet, rules), f"transfer the case to {team}", definition.states[case.state].title,
                   actor.named)


@unit_of_work
def transfer_case(cw: Casework, case_id: str, team: str, actor: str, *, reason: str | None = None,
                  at: datetime | None = None, expected_version: int | None = None) -> MoveResult:
    """Move a case to another declared team, if *actor* may allocate it; TransferRefused (audited) otherwise."""
    with cw.store.write() as conn:
        case, person, head, mode = load_case_and_actor(conn, case_id, actor, cw.snapshots, lock=True)
        at, now = when(cw, at)  # once the case is held: an action asked for now is dated at its turn
        principal = identity.authenticate(conn, actor, cw.principal, mode)
        check_version(case, expected_version)
        team = checked_team(conn, team) or team
        if team == case.team:
            raise BadInput(f"Case {case_id} is already in {team}.")
        definition, pin = pinned(conn, cw, case, actor, principal, now)
        late = timing(definition, case, at, now, move=True)
        last = max(case.markers.values(), default=None)
        if last is not None and at < last:
            raise BadInput(f"{to_text(at)} is before the case's last recorded action ({to_text(last)}); a transfer "
                           f"cannot predate what the case's history already holds.")
        verdict = judged(conn, lambda day, staff: explain_transfer(definition, case, person, day, team, reason, staff),
                         at, now)
        settled(verdict)
        payload = {"from_team": case.team, "to_team": team, "reason": reason}
        if not verdict.allowed:
            write_audit(conn, definition, case, "refused", actor, principal, at, now, "transfer", case.state,
                        {"verdict": verdict.to_dict(), **payload}, head)
        else:
            records.update_case(conn, case_id, case.version,
                                {"team": team, "version": case.version + 1, "updated_at": to_text(now), **pin})
            write_audit(conn, definition, case, "transfer", actor, principal, at, now, "transfer", case.state,
                        {**payload, **late, **pin_mark(pin)}, head)
            due_dates.refresh_stored(conn, cw, case_id)
    if not verdict.allowed:
        raise TransferRefused(verdict)
    case.version += 1
    case.team = team
    case.policy_digest = definition.digest
    cw.snapshots.advance(case_id, case.version - 1, case.version, case.markers)
    return MoveResult(verdict, partial(summary, cw, case, definition, day_of(now)))
