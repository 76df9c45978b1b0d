"""One function per thing a user does. The CLI calls these; so does any embedding service.

Each action that changes a case reads it, judges it and writes the change and its audit
entry in one unit of work: on SQLite that unit holds the file's write lock, on PostgreSQL
the case's row (and, for an allocation, the rows of the people it names, whose caseloads
it counts), so concurrent writers take turns. ``expected_version`` still refuses an action
on a case that changed since the caller read it (ConcurrentUpdate). A refusal writes only
its audited attempt, then raises.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Sequence

from casework.store import Connection, audit, records

from . import due_dates, identity
from .allocation import explain_allocation, proposed_case
from .clock import day_of, to_text
from ..errors import (AllocationRefused, BadInput, RecordRefused,
                     TransitionRefused, UnknownName)
from .caseload import my_cases, show_staff
from .closing import closing_move, closure_text
from .hydrate import load_case, load_case_and_actor, load_case_for_write, load_staff, named_staff
from .people import Case, Fact, FactLog, Staff, handed_over, holder_roles, markers_after
from .snapshots import CaseRecords
from .recording import explain_record
from .team_names import checked_team
from .teams import declare_team, list_teams
from .transfer import transfer_case
from .staff_actions import add_staff, leave_staff, list_staff, login_name, update_staff
from . import versions
from .units import KEEP, is_sandbox, unit_of_work, when
from .version_actions import migrate_cases
from .verdict import Verdict
from .results import MoveResult
from .workspace import Casework
from .case_views import summary, case_history, list_cases, show_case
from .verifying import AuditReport, verify_audit
from .judging import (backdating, check_version, judged, judged_by, not_before_opening, pin_mark, pinned,
                      rules_of, settled, timing, write_audit)

if TYPE_CHECKING:  # pragma: no cover
    from .definition import Definition
    from .diagram import CaseOverlay

__all__ = [
    "add_staff", "update_staff", "leave_staff", "list_staff", "open_case", "allocate", "record_fact", "move_case",
    "explain", "available", "show_case", "case_history", "list_cases", "verify_audit", "init_store",
    "MoveResult", "AuditReport", "KEEP", "is_sandbox", "case_overlay", "migrate_cases", "preview_allocation",
    "preview_record", "transfer_case", "declare_team", "list_teams", "close_case", "my_cases", "show_staff",
]

def init_store(cw: Casework, sandbox: bool = False, app_role: str | None = None, *,
               authentication: str | None = None, service_logins: Sequence[str] = (),
               staff_protocol: str | None = None) -> str:
    """Create or upgrade the schema; returns the schema revision.

    *sandbox* marks a new, empty store as a training sandbox, where a simulated clock may be used.
    *app_role* (PostgreSQL) is the role the application connects as: it gets only what casework
    needs, and can never change or remove audit entries (see Store.grant_application_role).
    *authentication* ('declared' or 'login', see workflow.identity) defaults, for a new store, to
    'login' on PostgreSQL and 'declared' on SQLite; the login running a first ``init`` is the
    store's owner. *service_logins* are logins trusted to pass principals they verified.
    *staff_protocol* names the protocol whose ``staff:`` rules govern the staff list (default national).
    Every setting is audited on the 'settings' chain.
    """
    before = cw.store.revision()
    revision = cw.store.upgrade()
    if before is not None and before != revision:  # a table the upgrade added would refuse the application
        cw.store.extend_application_roles()
    if app_role is not None:
        cw.store.grant_application_role(app_role)
    if authentication is not None and authentication not in identity.AUTHENTICATION:
        raise UnknownName(authentication, identity.AUTHENTICATION, "(authentication is 'declared' or 'login')")
    if authentication == identity.LOGIN and cw.store.is_sqlite:
        raise BadInput("A SQLite file has no database logins: its actors are declared (--as), and the operating-system "
                       "user is recorded. Share a store on PostgreSQL to authenticate people by login.")
    staff_rules = cw.versions.current(staff_protocol) if staff_protocol is not None else None  # UnknownPolicy
    with cw.store.write() as conn:
        new = not records.has_cases(conn) and not records.count_staff(conn)
        wanted: dict[str, str] = {}
        if sandbox:
            if records.get_setting(conn, "sandbox") != "true" and records.has_cases(conn):
                raise BadInput("Only an empty store can become a training sandbox; use a new --db.")
            wanted["sandbox"] = "true"
        if authentication is None and new and records.get_setting(conn, "authentication") is None:
            authentication = identity.DECLARED if cw.store.is_sqlite else identity.LOGIN
        if authentication is not None:
            wanted["authentication"] = authentication
        if not cw.store.is_sqlite and records.get_setting(conn, "owner_login") is None:
            wanted["owner_login"] = records.session_login(conn)
        for login in service_logins:
            wanted[f"service_login:{login_name(login)}"] = "true"
        now, principal = to_text(cw.clock()), identity.running(conn)
        if staff_rules is not None:  # the version is kept and pinned: whoever brings another file of its name
            versions.keep(conn, staff_rules, "(casework init)", principal, now)
            wanted["staff_protocol"] = staff_rules.name
            wanted["staff_protocol_digest"] = staff_rules.digest
        due_dates.refresh_stale(conn, cw)  # a store upgraded to kept due dates gets them now
        for key, value in wanted.items():
            if records.get_setting(conn, key) == value:
                continue
            records.set_setting(conn, key, value)  # audited, so a setting slipped into a store shows in verify
            audit.append(conn, "settings", recorded_at=now, at=now, actor="(casework init)", action="setting",
                         event=key.split(":")[0], principal=principal, payload={"key": key, "value": value})
    return revision


@unit_of_work
def open_case(cw: Casework, case_id: str, policy: str, team: str, actor: str,
              at: datetime | None = None, *, shown: bool = True) -> dict[str, Any]:
    """Open a case in its protocol's initial state (a referral received), attributed to *actor*; returns the
    case as ``show_case`` does (with *shown* False, only its id: what a bulk import needs)."""
    at, now = when(cw, at)
    definition = cw.versions.for_opening(policy, day_of(at))
    with cw.store.write() as conn:
        principal = identity.authenticate(conn, actor, cw.principal)
        load_staff(conn, actor)
        team = checked_team(conn, team) or team
        row = {"id": case_id, "policy": policy, "team": team, "state": definition.initial, "version": 1,
               "opened_at": to_text(at), "state_entered_at": to_text(at), "allocated_at": None,
               "lead_id": None, "supervisor_id": None, "worker_id": None, "previous_lead_id": None,
               "updated_at": to_text(now), "policy_digest": definition.digest}
        records.insert_case(conn, row)
        versions.keep(conn, definition, actor, principal, to_text(now))
        records.set_markers(conn, case_id, {f"entered:{definition.initial}": to_text(at)})
        due_dates.refresh(conn, definition, case_id, definition.initial, {f"entered:{definition.initial}": at},
                          frozenset())
        case = Case(case_id, policy, team, definition.initial)
        write_audit(conn, definition, case, "open", actor, principal, at, now, None, definition.initial,
               {"team": team, "digest": definition.digest, **backdating(definition, at, now)})
    cw.snapshots.keep(case_id, CaseRecords(1, (), {f"entered:{definition.initial}": at}, (), {}, {}))
    return show_case(cw, case_id) if shown else {"id": case_id}


def explain(cw: Casework, case_id: str, event: str, actor: str, at: datetime | None = None,
            reason: str | None = None) -> Verdict:
    """The verdict :func:`move_case` would give with the same arguments, without making the move (nothing is
    written): a missing reason shows as an unmet item naming ``--reason``, which ``move_case`` refuses as a usage
    error."""
    at, now = when(cw, at)
    with cw.store.read() as conn:  # a read: nothing to authenticate
        case, person = load_case_and_actor(conn, case_id, actor, cw.snapshots)[:2]
        definition = judged_by(conn, cw, case)
        timing(definition, case, at, now, move=True)
        engine = cw.engine(definition)
        return judged(conn, lambda day, staff: engine.explain(case, event, person, day, reason, staff), at, now)


def available(cw: Casework, case_id: str, actor: str, at: datetime | None = None,
              reason: str | None = None) -> list[Verdict]:
    """Every move out of the case's state, each with the verdict :func:`explain` gives."""
    at, now = when(cw, at)
    with cw.store.read() as conn:
        case, person = load_case_and_actor(conn, case_id, actor, cw.snapshots)[:2]
        definition = judged_by(conn, cw, case)
        timing(definition, case, at, now, move=True)
        engine = cw.engine(definition)
        def judge(name: str) -> Callable[[datetime, tuple[Staff, ...] | None], Verdict]:
            return lambda day, staff: engine.explain(case, name, person, day, reason, staff)

        return [judged(conn, judge(name), at, now) for name, _ in definition.events_from(case.state)]


def preview_record(cw: Casework, case_id: str, fact: str, actor: str, *, with_staff: Sequence[str] = (),
                   note: str = "", at: datetime | None = None) -> Verdict:
    """The verdict :func:`record_fact` would give with the same arguments, without recording (nothing is written)."""
    at, now = when(cw, at)
    with cw.store.read() as conn:
        case, people, _, _ = load_case_for_write(conn, case_id, (actor, *with_staff), cw.snapshots)
        person = named_staff(conn, people, actor)
        others = tuple(named_staff(conn, people, other) for other in with_staff)
        definition = judged_by(conn, cw, case)
        timing(definition, case, at, now)
        return judged(conn, lambda day, staff: explain_record(definition, case, fact, person, day, note, others,
                                                               staff), at, now)


def close_case(cw: Casework, case_id: str, code: str, actor: str, *, note: str | None = None,
               at: datetime | None = None, expected_version: int | None = None) -> MoveResult:
    """Close a case for the coded reason *code* of its protocol (workflow.closing), through the move that reason
    leads to, judged as :func:`move_case` judges it; a change to the case meanwhile is ConcurrentUpdate."""
    with cw.store.read() as conn:
        case = load_case(conn, case_id, cw.snapshots)
        definition = judged_by(conn, cw, case)
    event = closing_move(definition, case.state, code)
    return move_case(cw, case_id, event, actor, reason=closure_text(definition, code, note), at=at,
                     closure_reason=code, expected_version=case.version if expected_version is None else expected_version)


@unit_of_work
def move_case(cw: Casework, case_id: str, event: str, actor: str, *, reason: str | None = None,
              at: datetime | None = None, expected_version: int | None = None,
              closure_reason: str | None = None) -> MoveResult:
    """Make a move if the protocol allows it; otherwise audit the attempt and raise TransitionRefused.

    The case is read, judged and written in one unit of work; the version guard on the
    update still turns a concurrent writer into ConcurrentUpdate.
    """
    with cw.store.write() as conn:
        case, person, head, mode = load_case_and_actor(conn, case_id, actor, cw.snapshots, lock=True)
        at, now = when(cw, at)  # once the case is held: an action asked for now is dated at its turn
        principal = identity.authenticate(conn, actor, cw.principal, mode)
        check_version(case, expected_version)
        definition, pin = pinned(conn, cw, case, actor, principal, now)
        late = timing(definition, case, at, now, move=True)
        engine = cw.engine(definition)
        verdict = judged(conn, lambda day, staff: engine.explain(case, event, person, day, reason, staff), at, now)
        settled(verdict)
        if not verdict.allowed:
            write_audit(conn, definition, case, "refused", actor, principal, at, now, event, verdict.target,
                   {"verdict": verdict.to_dict(), "reason": reason}, head)
        else:
            before = Case(case.id, case.policy, case.team, case.state)
            engine.fire(case, event, at)
            records.update_case(conn, case_id, case.version, {
                "state": case.state, "version": case.version + 1,
                "state_entered_at": to_text(case.state_entered_at or at), "updated_at": to_text(now), **pin})
            entered = {f"entered:{case.state}": at} if case.state != before.state else {}
            happened = {f"event:{event}": at, **entered}
            records.set_markers(conn, case_id, {k: to_text(v) for k, v in happened.items()})
            due_dates.refresh(conn, definition, case_id, case.state, markers_after(case.markers, happened),
                              holder_roles(case))
            write_audit(conn, definition, before, "move", actor, principal, at, now, event, case.state,
                   {"reason": reason, "rules": list(rules_of(definition, event)), **late, **pin_mark(pin),
                    **({"closure_reason": closure_reason} if closure_reason else {})}, head)
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    case.version += 1
    case.markers = markers_after(case.markers, happened)
    case.policy_digest = definition.digest
    cw.snapshots.advance(case_id, case.version - 1, case.version, case.markers)
    return MoveResult(verdict, partial(summary, cw, case, definition, day_of(now)))


@unit_of_work
def allocate(cw: Casework, case_id: str, lead: str, actor: str, *, supervisor: str | None = KEEP,
             worker: str | None = KEEP, reason: str | None = None, at: datetime | None = None,
             expected_version: int | None = None) -> MoveResult:
    """Allocate or reallocate the lead practitioner (and supervisor, worker) under the protocol's rules."""
    with cw.store.write() as conn:
        named = [p for p in (lead, supervisor, worker) if p is not KEEP and p]
        case, people, head, mode = load_case_for_write(conn, case_id, (actor, *named), cw.snapshots, lock=True)
        at, now = when(cw, at)  # once the case is held: an action asked for now is dated at its turn
        principal = identity.authenticate(conn, actor, cw.principal, mode)
        records.lock_staff(conn, named)  # caseloads are judged one writer at a time (STO-8)
        check_version(case, expected_version)
        definition, pin = pinned(conn, cw, case, actor, principal, now)
        late = backdating(definition, at, now)
        verdict, new_lead, new_sup, new_worker = _allocation_verdict(
            conn, definition, case, people, actor, lead, supervisor, worker, reason, at, now)
        settled(verdict)
        if not verdict.allowed:
            write_audit(conn, definition, case, "refused", actor, principal, at, now, verdict.event, verdict.target, {
                "verdict": verdict.to_dict(), "lead": lead, "supervisor": new_sup.id if new_sup else None,
                "worker": new_worker.id if new_worker else None, "reason": reason}, head)
            refused = True
        else:
            refused = False
            after = proposed_case(case, new_lead, new_sup, new_worker)
            ids = {"lead_id": new_lead.id, "supervisor_id": new_sup.id if new_sup else None,
                   "worker_id": new_worker.id if new_worker else None}
            changed = handed_over(case, ids)
            _write_allocation(conn, definition, case, after, ids, changed, actor, principal, at, now, reason,
                              {**late, **pin_mark(pin)}, head, pin)
    if refused:
        raise AllocationRefused(verdict)
    after.version, after.allocated_at = case.version + 1, at
    after.holder_prior = {**case.holder_prior, **{s: case.holder_since[s] for s in changed if s in case.holder_since}}
    after.holder_since = {**case.holder_since, **{s: at for s in changed}}
    after.markers = markers_after(case.markers, {"event:allocate": at})
    after.policy_digest = definition.digest
    cw.snapshots.advance(case_id, case.version, after.version, after.markers,
                         lead=(case.lead.id if case.lead else None, new_lead.id),
                         holders=(after.holder_since, after.holder_prior))
    return MoveResult(verdict, partial(summary, cw, after, definition, day_of(now)))


def _allocation_verdict(conn: Connection, definition: Definition, case: Case, people: dict[str, Staff], actor: str,
                        lead: str,
                        supervisor: Any, worker: Any, reason: str | None, at: datetime,
                        now: datetime) -> tuple[Verdict, Staff, Staff | None, Staff | None]:
    """The verdict on an allocation, and the holders it names (each lead and worker with their caseload now)."""
    person = named_staff(conn, people, actor)
    new_lead = named_staff(conn, people, lead)
    new_sup = case.supervisor if supervisor is KEEP else (named_staff(conn, people, supervisor) if supervisor else None)
    new_worker = case.worker if worker is KEEP else (named_staff(conn, people, worker) if worker else None)
    open_states = [s for s, spec in definition.states.items() if spec.open]
    new_lead = replace(new_lead, caseload=records.count_held(conn, new_lead.id, open_states, case.id))
    if new_worker is not None:
        new_worker = replace(new_worker, caseload=records.count_held(conn, new_worker.id, open_states, case.id))
    not_before_opening(case, at)
    verdict = judged(conn, lambda day, staff: explain_allocation(definition, case, person, day, new_lead, new_sup,
                                                                  new_worker, reason, staff), at, now,
                      caseloads=(open_states, case.id))
    return verdict, new_lead, new_sup, new_worker


def preview_allocation(cw: Casework, case_id: str, lead: str, actor: str, *, supervisor: str | None = KEEP,
                       worker: str | None = KEEP, reason: str | None = None, at: datetime | None = None) -> Verdict:
    """The verdict :func:`allocate` would give now, without making the allocation (nothing is written)."""
    at, now = when(cw, at)
    named = [p for p in (lead, supervisor, worker) if p is not KEEP and p]
    with cw.store.read() as conn:
        case, people, _, _ = load_case_for_write(conn, case_id, (actor, *named), cw.snapshots)
        definition = judged_by(conn, cw, case)
        backdating(definition, at, now)
        return _allocation_verdict(conn, definition, case, people, actor, lead, supervisor, worker, reason, at,
                                   now)[0]


def _write_allocation(conn: Connection, definition: Definition, case: Case, after: Case, ids: dict[str, str | None],
                      changed: dict[str, str | None], actor: str, principal: str, at: datetime, now: datetime,
                      reason: str | None, late: dict[str, Any], head: audit.Head, pin: dict[str, Any]) -> None:
    records.update_case(conn, case.id, case.version, {
        **ids, "previous_lead_id": after.previous_lead.id if after.previous_lead else None,
        "allocated_at": to_text(at), "version": case.version + 1, "updated_at": to_text(now), **pin})
    records.insert_allocation(conn, {"case_id": case.id, "at": to_text(at), "by_id": actor, "reason": reason, **ids})
    records.take_slots(conn, case.id, case.version + 1, to_text(at), changed)
    records.set_markers(conn, case.id, {"event:allocate": to_text(at)})
    due_dates.refresh(conn, definition, case.id, case.state, markers_after(case.markers, {"event:allocate": at}),
                      holder_roles(after))
    write_audit(conn, definition, case, "allocate", actor, principal, at, now, "allocate", case.state,
           {**ids, "previous_lead_id": case.lead.id if case.lead else None, "reason": reason, **late}, head)


@unit_of_work
def record_fact(cw: Casework, case_id: str, fact: str, actor: str, *, with_staff: Sequence[str] = (),
                note: str = "", at: datetime | None = None, expected_version: int | None = None) -> MoveResult:
    """Record a fact (a visit, an approval, a rationale), by the people the protocol names."""
    with cw.store.write() as conn:
        case, people, head, mode = load_case_for_write(conn, case_id, (actor, *with_staff), cw.snapshots, lock=True)
        at, now = when(cw, at)  # once the case is held: an action asked for now is dated at its turn
        principal = identity.authenticate(conn, actor, cw.principal, mode)
        person = named_staff(conn, people, actor)
        others = tuple(named_staff(conn, people, other) for other in with_staff)
        check_version(case, expected_version)
        definition, pin = pinned(conn, cw, case, actor, principal, now)
        late = timing(definition, case, at, now)
        verdict = judged(conn, lambda day, staff: explain_record(definition, case, fact, person, day, note, others,
                                                                  staff), at, now)
        settled(verdict)
        if not verdict.allowed:
            write_audit(conn, definition, case, "refused", actor, principal, at, now, verdict.event, verdict.target,
                   {"verdict": verdict.to_dict(), "with": list(with_staff), "note": note}, head)
        else:
            records.update_case(conn, case_id, case.version, {"version": case.version + 1,
                                                              "updated_at": to_text(now), **pin})
            row = {"case_id": case_id, "name": fact, "at": to_text(at), "recorded_at": to_text(now), "by_id": actor,
                   "with_ids": list(with_staff), "note": note, "state": case.state}
            records.insert_fact(conn, row)
            records.set_markers(conn, case_id, {f"fact:{fact}": to_text(at)})
            if pin or f"fact:{fact}" in definition.deadline_markers:  # else every due date stays as it was
                due_dates.refresh(conn, definition, case_id, case.state,
                                  markers_after(case.markers, {f"fact:{fact}": at}), holder_roles(case))
            write_audit(conn, definition, case, "fact", actor, principal, at, now, fact, case.state,
                   {"with": list(with_staff), "note": note, **late, **pin_mark(pin)}, head)
    if not verdict.allowed:
        raise RecordRefused(verdict)
    case.version += 1
    recorded = Fact(fact, at, person, others, note, case.state)
    case.facts = (case.facts.plus(recorded) if isinstance(case.facts, FactLog)
                  else sorted([*case.facts, recorded], key=lambda f: f.at))
    case.markers = markers_after(case.markers, {f"fact:{fact}": at})
    case.policy_digest = definition.digest
    cw.snapshots.advance(case_id, case.version - 1, case.version, case.markers, fact=row)
    return MoveResult(verdict, partial(summary, cw, case, definition, day_of(now)))


def case_overlay(cw: Casework, case_id: str, actor: str | None = None) -> "CaseOverlay":
    """The case on its protocol's diagram: state, moves made (from the audit log), exits for *actor*."""
    from .diagram import CaseOverlay

    history = case_history(cw, case_id)
    state = show_case(cw, case_id)["state"]
    taken = frozenset((e["event"], e["from_state"]) for e in history if e["action"] == "move")
    verdicts = {v.event: v for v in available(cw, case_id, actor)} if actor else {}
    return CaseOverlay(case_id, state, taken, verdicts, actor)
