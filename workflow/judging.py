"""How every action is judged before it is written: on its day and today, its timing, its version pinned.

Shared by the service's actions (workflow.service), so that a move, a fact and an allocation are
judged, refused and audited the same way.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Sequence

from casework.store import Connection, audit, records

from .clock import to_text
from ..errors import (BadInput, ConcurrentUpdate, MissingArguments)
from .hydrate import staff_from_row
from .people import Case, Staff
from . import versions
from .units import SKEW
from .verdict import Verdict
from .workspace import Casework

if TYPE_CHECKING:  # pragma: no cover
    from .definition import Definition


__all__ = ["write_audit", "backdating", "on_both_days", "judged", "judged_by", "not_before_opening", "pinned",
           "settled", "timing", "check_version", "pin_mark", "rules_of"]


def backdating(definition: Definition, at: datetime, now: datetime) -> dict[str, Any]:
    """Back-dating is allowed within the definition's window and is marked in the audit entry."""
    if at >= now - SKEW:
        return {}
    window = definition.backdate_days
    if now - at > timedelta(days=window):
        raise BadInput(f"{to_text(at)} is more than {window} days ago; policy {definition.name!r} allows "
                       f"back-dating by at most {window} days.")
    return {"backdated": True}


def on_both_days(judge: Callable[[datetime], Verdict], at: datetime, now: datetime) -> Verdict:
    """A back-dated action must be allowed on its day *and* today: back-dating cannot create a
    situation the protocol forbids now (e.g. a lapsed registration on the CP path, WT-5)."""
    then = judge(at)
    if at >= now - SKEW:
        return then
    today = judge(now)
    seen = {u.sentence for u in then.unmet}
    extra = tuple(replace(u, sentence=f"Today: {u.sentence}") for u in today.unmet if u.sentence not in seen)
    return replace(then, allowed=then.allowed and today.allowed, unmet=then.unmet + extra)


def judged(conn: Connection, judge: Callable[[datetime, tuple[Staff, ...] | None], Verdict], at: datetime,
            now: datetime, caseloads: tuple[Sequence[str], str] | None = None) -> Verdict:
    """The verdict on both days (on_both_days); when something is unmet, judged again with the staff list so that
    each unmet item names the people who could meet it (read only then: an allowed action does not pay for it).
    With *caseloads* (the open states, the case judged), each person carries the cases they hold elsewhere, as
    an allocation judges its candidates (STO-8)."""
    verdict = on_both_days(lambda day: judge(day, None), at, now)
    if verdict.allowed:
        return verdict
    staff = tuple(staff_from_row(r) for r in records.all_staff(conn))
    if caseloads is not None:
        held = records.held_counts(conn, *caseloads)
        staff = tuple(replace(p, caseload=held.get(p.id, 0)) for p in staff)
    return on_both_days(lambda day: judge(day, staff), at, now)


def timing(definition: Definition, case: Case, at: datetime, now: datetime, move: bool = False) -> dict[str, Any]:
    """The dates an action may carry, checked before it is judged (the same for a preview as for the action):
    within the back-dating window, not before the case opened, a move not before its current state began."""
    late = backdating(definition, at, now)
    not_before_opening(case, at)
    if move and case.state_entered_at and at < case.state_entered_at:
        raise BadInput(f"{to_text(at)} is before case {case.id} entered {case.state!r} "
                       f"({to_text(case.state_entered_at)}); a move cannot predate the case's current state.")
    return late


def settled(verdict: Verdict) -> None:
    """A verdict that lacks arguments is a usage error before it is anything else: nothing is written."""
    if verdict.missing:
        raise MissingArguments(verdict)


def not_before_opening(case: Case, at: datetime) -> None:
    if case.opened_at and at < case.opened_at:
        raise BadInput(f"{to_text(at)} is before case {case.id} was opened ({to_text(case.opened_at)}).")


def check_version(case: Case, expected: int | None) -> None:
    if expected is not None and case.version != expected:
        raise ConcurrentUpdate(f"Case {case.id} is at version {case.version}, not {expected}; "
                               "it changed since you read it. Reload it and try again.")


def write_audit(conn: Connection, definition: Definition, case: Case, action: str, actor: str, principal: str, at: datetime,
           now: datetime, event: str | None = None, to_state: str | None = None,
           payload: dict[str, Any] | None = None, head: audit.Head | None = None) -> None:
    audit.append(conn, f"case:{case.id}", head, recorded_at=to_text(now), at=to_text(at), actor=actor,
                 principal=principal, action=action, case_id=case.id, event=event, from_state=case.state,
                 to_state=to_state, policy=case.policy, policy_version=f"{definition.version}@{definition.digest[:12]}",
                 payload=payload or {})


def pinned(conn: Connection, cw: Casework, case: Case, actor: str, principal: str,
            now: datetime) -> tuple[Definition, dict[str, Any]]:
    """The version *case* runs under, and what a change must write to pin a case opened before versions
    were kept to the version that judged it (its row's digest, and a 'pinned' mark in the audit entry)."""
    definition = judged_by(conn, cw, case)
    if case.policy_digest is not None:
        return definition, {}
    versions.keep(conn, definition, actor, principal, to_text(now))
    return definition, {"policy_digest": definition.digest}


def judged_by(conn: Connection, cw: Casework, case: Case) -> Definition:
    """The version *case* is judged by; VersionUnavailable (exit 2) when it cannot be read or lacks the case's state."""
    definition = cw.versions.of(conn, case.policy, case.policy_digest)
    if case.state not in definition.states:
        raise versions.VersionUnavailable(
            f"Case {case.id} is in state {case.state!r}, which {versions.label(definition)} does not have: it ran "
            f"under a version this store never kept. Restore that protocol file (--machines) to act on it.")
    return definition


def pin_mark(pin: dict[str, Any]) -> dict[str, Any]:
    """What an audit entry says of a pin it made: the digest the case is now pinned to."""
    return {"pinned": pin["policy_digest"]} if pin else {}


def rules_of(definition: Definition, event: str) -> tuple[str, ...]:
    """Every rule a move cites: its own and its requirements' (what its audit entry names)."""
    ev = definition.events[event]
    rules: dict[str, None] = dict.fromkeys(ev.rules)
    for r in ev.requires:
        rules.update(dict.fromkeys(r.all_rules()))
    return tuple(rules)
