"""What is due or overdue across open cases, and who must act: the managers' and auditors' view."""
from __future__ import annotations

from datetime import date
from typing import Any

from casework.store import Connection, records

from . import versions

from .clock import day_of, from_text
from .deadlines import DueItem, due_for_case
from .definition import Definition
from ..errors import BadInput, CaseworkError
from .hydrate import load_case, staff_from_row
from .safeguards import (conditions_lapsed, cp_lead_not_registered, holders_who_left, keeps_at_stake, newer_version,
                         unjudged, version_ended)
from .requirements.base import FIRST_DAY, LAST_DAY
from .workspace import Casework

__all__ = ["due_items"]


def due_items(cw: Casework, as_of: date | None = None, *, overdue_only: bool = False, team: str | None = None,
              staff: str | None = None) -> list[DueItem]:
    """Every open item of every open case, most urgent first; cost grows with open cases only.

    Each case is judged by the protocol version it runs under. None is left out: a case whose version
    cannot be read, or whose state that version does not have, is listed as an overdue item that says why.
    """
    as_of = as_of or day_of(cw.clock())
    if not FIRST_DAY <= as_of <= LAST_DAY:
        raise BadInput(f"{as_of} is outside the dates casework keeps ({FIRST_DAY} to {LAST_DAY}).")
    with cw.store.read() as conn:
        known = _known_versions(cw, conn)
        closed = sorted(set.intersection(*({s for s, spec in d.states.items() if not spec.open} for d in known))
                        if known else set())
        cases, markers = records.open_case_markers(conn, closed, team)
        people = {s["id"]: staff_from_row(s) for s in records.all_staff(conn)}
        judged = [(case, _version_of(cw, conn, case)) for case in cases]
        roles = {sid: person.roles for sid, person in people.items()}
        # the few cases whose holders hold under conditions that must keep holding are read whole
        versions_met = {d.digest: d for _, d in judged if not isinstance(d, DueItem)}
        with_keeps = {digest for digest, d in versions_met.items()
                      if any(p.keeps for p in (*d.allocation.leads, *d.allocation.workers))}
        whole = {case["id"]: load_case(conn, case["id"]) for case, d in judged
                 if not isinstance(d, DueItem) and d.digest in with_keeps
                 and (not staff or staff in (case["lead_id"], case["supervisor_id"], case["worker_id"]))
                 and keeps_at_stake(d, case["state"], {slot: roles.get(case[f"{slot}_id"], frozenset())
                                                       for slot in ("lead", "worker")})}
    openings: dict[str, Definition | None] = {}
    items: list[DueItem] = []
    for case, d in judged:
        if staff and staff not in (case["lead_id"], case["supervisor_id"], case["worker_id"]):
            continue
        if isinstance(d, DueItem):
            items.append(d)
            continue
        if not d.states[case["state"]].open:
            continue
        found = {k: from_text(v) for k, v in markers[case["id"]].items()}
        holders = roles.get(case["lead_id"], frozenset()) | roles.get(case["worker_id"], frozenset())
        items += due_for_case(case["id"], case["team"], case["state"], found, d.deadlines, d.calendar_of, as_of, holders)
        flag = cp_lead_not_registered(case["id"], case["team"], case["state"], people.get(case["lead_id"]), d, as_of)
        ended = version_ended(case["id"], case["team"], d, as_of)
        if case["policy"] not in openings:  # once per policy: a broken file is read once, not once per case
            openings[case["policy"]] = cw.versions.opening_or_none(case["policy"], as_of)
        newer = newer_version(case["id"], case["team"], d, openings[case["policy"]], as_of)
        items += [i for i in (flag, ended, newer) if i is not None]
        items += holders_who_left(case["id"], case["team"], {slot: people.get(case[f"{slot}_id"]) for slot in
                                                             ("lead", "supervisor", "worker")}, d, as_of)
        if case["id"] in whole:
            items += conditions_lapsed(whole[case["id"]], d, as_of)
    if overdue_only:
        items = [i for i in items if i.overdue]
    return sorted(items, key=lambda i: (i.working_days_left, i.due, i.case_id, i.name))


def _known_versions(cw: Casework, conn: Connection) -> list[Definition]:
    """Every version a case may run under: the files' and the store's (one that cannot be read is skipped here
    and reported on each of its cases)."""
    found = []
    for name in cw.policies.names():
        try:
            found.append(cw.versions.current(name))
        except CaseworkError:
            continue
    for row in records.list_definitions(conn):
        try:
            found.append(cw.versions.of(conn, row["name"], row["digest"]))
        except CaseworkError:
            continue
    return found


def _version_of(cw: Casework, conn: Connection, case: dict[str, Any]) -> Definition | DueItem:
    """The case's version, or the item that says why it cannot be judged."""
    try:
        d = cw.versions.of(conn, case["policy"], case["policy_digest"])
    except CaseworkError as exc:
        return unjudged(case["id"], case["team"], from_text(case["opened_at"]).date(),
                        f"its protocol version cannot be read: {exc}")
    if case["state"] not in d.states:
        return unjudged(case["id"], case["team"], from_text(case["opened_at"]).date(),
                        f"its state {case['state']!r} is not one of {versions.label(d)}'s")
    return d
