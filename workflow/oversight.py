"""What is due or overdue across open cases, and who must act: the managers' and auditors' view."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from casework.store import Connection, records

from . import versions

from .calendar import calendar_for, holidays_fingerprint
from .clock import day_of, from_text
from .deadlines import DueItem, due_for_case, responsible
from .definition import Definition
from ..errors import BadInput, CaseworkError
from .hydrate import load_case, staff_from_row
from .people import Staff
from .team_names import checked_team
from .safeguards import (conditions_lapsed, cp_lead_not_registered, holders_who_left, keeps_at_stake, newer_version,
                         unjudged, version_ended)
from .requirements.base import FIRST_DAY, LAST_DAY
from .workspace import Casework

__all__ = ["due_items", "recomputed_due_items"]


def _checked_day(cw: Casework, as_of: date | None) -> date:
    as_of = as_of or day_of(cw.clock())
    if not FIRST_DAY <= as_of <= LAST_DAY:
        raise BadInput(f"{as_of} is outside the dates casework keeps ({FIRST_DAY} to {LAST_DAY}).")
    return as_of


def _closed(known: list[Definition]) -> list[str]:
    """The states closed in every version a case may run under (a case in one of them has nothing due)."""
    return sorted(set.intersection(*({s for s, spec in d.states.items() if not spec.open} for d in known))
                  if known else set())


def _holds(case: Any, staff: str | None) -> bool:
    return not staff or staff in (case["lead_id"], case["supervisor_id"], case["worker_id"])


def due_items(cw: Casework, as_of: date | None = None, *, overdue_only: bool = False, team: str | None = None,
              staff: str | None = None, within: int | None = None) -> list[DueItem]:
    """Every open item of every open case, most urgent first; the cost grows with the items, not the open cases.

    The deadlines are read from the due dates kept with each case (workflow.due_dates), an index range when
    only what is overdue, or due *within* so many working days, is asked for; the standing safeguards are
    looked for where they can arise (the cases of people whose registration lapsed or who left, of versions
    that ended or were followed, of holders under conditions); a case without current rows is judged whole.
    The result is recomputed_due_items's, which tests compare it with.
    """
    as_of = _checked_day(cw, as_of)
    calendar = holidays_fingerprint()
    with cw.store.read() as conn:
        team = checked_team(conn, team)  # a mistyped team is refused, not shown as having nothing due
        known = cw.versions.known(conn)
        closed = _closed(known)
        stale = [c for c in records.due_stale(conn, closed, calendar, team) if _holds(c, staff)]
        people = {s["id"]: staff_from_row(s) for s in records.all_staff(conn)}
        items = _judged_whole(cw, conn, stale, people, as_of, staff)
        done = {c["id"] for c in stale}
        until = (as_of - timedelta(days=1) if overdue_only else
                 _last_day_within(known, as_of, within) if within is not None else None)
        items += _kept_deadlines(cw, conn, calendar, as_of, until, team, staff, done)
        items += _safeguards(cw, conn, people, as_of, team, staff, done, known, closed)
    if overdue_only:
        items = [i for i in items if i.overdue]
    if within is not None:
        items = [i for i in items if i.overdue or i.working_days_left <= within]
    return sorted(items, key=lambda i: (i.working_days_left, i.due, i.case_id, i.name))


#: the furthest ahead 'within' looks: five years of working days, as a deadline's own longest
MAX_WITHIN = 1300


def _last_day_within(known: list[Definition], as_of: date, within: int) -> date:
    """The latest day that is *within* working days of *as_of* in any calendar a deadline counts in (a local
    protocol's closures push its days later than national's): the kept rows due after it cannot be within."""
    if not 0 <= within <= MAX_WITHIN:
        raise BadInput(f"Give 'within' as a number of working days from 0 to {MAX_WITHIN}, not {within}.")
    calendars = {d.closures for d in known} | {()}
    return max(calendar_for(closures).add_working_days(as_of, within) for closures in calendars)


def _kept_deadlines(cw: Casework, conn: Connection, calendar: str, as_of: date, until_day: date | None,
                    team: str | None, staff: str | None, done: set[str]) -> list[DueItem]:
    """The deadline items of the kept due dates (only those due on or before *until_day*, if given: an index
    range)."""
    until = until_day.isoformat() if until_day is not None else None
    found: list[DueItem] = []
    versions_met: dict[str, Definition | None] = {}
    counted: dict[tuple[int, date], int] = {}
    who: dict[int, str] = {}  # each deadline's words, made once (a manager's list repeats a few deadlines)
    for case_id, name, due_on, team_, policy, digest, state in records.due_rows(conn, calendar, until, team, staff):
        if case_id in done:
            continue
        if digest not in versions_met:
            try:
                versions_met[digest] = cw.versions.of(conn, policy, digest)
            except CaseworkError:
                versions_met[digest] = None
        d = versions_met[digest]
        if d is None or state not in d.states or not d.states[state].open or name not in d.deadlines:
            continue  # a case its version cannot judge is reported by _safeguards
        dl = d.deadlines[name]
        due = date.fromisoformat(due_on)
        calendar_ = d.calendar_of(dl)
        key = (id(calendar_), due)
        if key not in counted:
            counted[key] = calendar_.working_days_between(as_of, due)
        if id(dl) not in who:
            who[id(dl)] = responsible(dl)
        found.append(DueItem(case_id, name, dl.title, due, counted[key], due < as_of, dl.rules, who[id(dl)], team_))
    return found


def _safeguards(cw: Casework, conn: Connection, people: dict[str, Staff], as_of: date, team: str | None,
                staff: str | None, done: set[str], known: list[Definition], closed: list[str]) -> list[DueItem]:
    """The standing safeguards' items, looked for only among the cases where each can arise."""
    items: list[DueItem] = []

    def open_case(row: Any) -> tuple[Any, Definition | DueItem] | None:
        """The case and its version (or why it cannot be judged), if it is one to look at: not closed, of the
        team and person asked, not judged whole already."""
        if row["id"] in done or row["state"] in closed or (team and row["team"] != team) or not _holds(row, staff):
            return None
        d = _version_of(cw, conn, row)
        return None if not isinstance(d, DueItem) and not d.states[row["state"]].open else (row, d)

    # cases their version cannot judge, and versions that ended or were followed: the cases of those versions
    names = {r["digest"]: r["name"] for r in records.list_definitions(conn)}
    openings: dict[str, Definition | None] = {}
    for digest, states in records.cases_per_version(conn).items():
        if digest is None or not set(states) - set(closed):
            continue  # cases not pinned to a version are judged whole (due_stale)
        policy = names.get(digest)
        d: Definition | None
        try:
            d = cw.versions.of(conn, policy or "", digest)
        except CaseworkError:
            d = None
        if policy is not None and policy not in openings:
            openings[policy] = cw.versions.opening_or_none(policy, as_of)
        current = openings.get(policy or "")
        if d is not None and all(s in d.states for s in states) and d.effective_until is None and (
                current is None or current.digest == d.digest):
            continue
        for row in records.cases_of_digest(conn, digest):
            found = open_case(row)
            if found is None:
                continue
            case, version = found
            if isinstance(version, DueItem):
                items.append(version)
                continue
            items += [i for i in (version_ended(case["id"], case["team"], version, as_of),
                                  newer_version(case["id"], case["team"], version,
                                                openings.get(case["policy"]), as_of)) if i is not None]
    # people who are not registered today, or have left: the cases they hold
    for person in people.values():
        lapsed, left = not person.qualified_on(as_of), not person.active_on(as_of)
        for slot in ("lead", "supervisor", "worker"):
            if not left and not (lapsed and slot == "lead"):
                continue
            for row in records.cases_held_as(conn, f"{slot}_id", person.id):
                found = open_case(row)
                if found is None or isinstance(found[1], DueItem):
                    continue
                case, version = found[0], found[1]
                assert not isinstance(version, DueItem)
                if slot == "lead" and lapsed:
                    flag = cp_lead_not_registered(case["id"], case["team"], case["state"], person, version, as_of)
                    items += [flag] if flag is not None else []
                if left:
                    items += holders_who_left(case["id"], case["team"], {slot: person}, version, as_of)
    # holders under conditions that must keep holding (``keeps``): the cases of people with such a policy's roles
    keep_roles = {r for d in known for p in (*d.allocation.leads, *d.allocation.workers) if p.keeps for r in p.roles}
    seen: set[str] = set()
    for person in people.values():
        if not person.roles & keep_roles:
            continue
        for slot in ("lead_id", "worker_id"):
            for row in records.cases_held_as(conn, slot, person.id):
                found = open_case(row)
                if found is None or isinstance(found[1], DueItem) or row["id"] in seen:
                    continue
                case, version = found[0], found[1]
                assert not isinstance(version, DueItem)
                roles = {s: people[case[f"{s}_id"]].roles if case[f"{s}_id"] in people else frozenset()
                         for s in ("lead", "worker")}
                if keeps_at_stake(version, case["state"], roles):
                    seen.add(row["id"])
                    items += conditions_lapsed(load_case(conn, row["id"]), version, as_of)
    return items


def recomputed_due_items(cw: Casework, as_of: date | None = None, *, overdue_only: bool = False,
                         team: str | None = None, staff: str | None = None, within: int | None = None) -> list[DueItem]:
    """due_items judged from every open case as it stands, with nothing kept: the check of the kept due dates,
    and the answer for a store whose rows are not made yet."""
    as_of = _checked_day(cw, as_of)
    with cw.store.read() as conn:
        closed = _closed(cw.versions.known(conn))
        cases, _ = records.open_case_markers(conn, closed, team)
        people = {s["id"]: staff_from_row(s) for s in records.all_staff(conn)}
        items = _judged_whole(cw, conn, [c for c in cases if _holds(c, staff)], people, as_of, staff)
    if overdue_only:
        items = [i for i in items if i.overdue]
    if within is not None:
        items = [i for i in items if i.overdue or i.working_days_left <= within]
    return sorted(items, key=lambda i: (i.working_days_left, i.due, i.case_id, i.name))


def _judged_whole(cw: Casework, conn: Connection, cases: list[Any], people: dict[str, Staff], as_of: date,
                  staff: str | None) -> list[DueItem]:
    """Every item of each of *cases*, each judged by its version from its markers and holders."""
    judged = [(case, _version_of(cw, conn, case)) for case in cases]
    roles = {sid: person.roles for sid, person in people.items()}
    # the few cases whose holders hold under conditions that must keep holding are read whole
    versions_met = {d.digest: d for _, d in judged if not isinstance(d, DueItem)}
    with_keeps = {digest for digest, d in versions_met.items()
                  if any(p.keeps for p in (*d.allocation.leads, *d.allocation.workers))}
    whole = {case["id"]: load_case(conn, case["id"]) for case, d in judged
             if not isinstance(d, DueItem) and d.digest in with_keeps
             and keeps_at_stake(d, case["state"], {slot: roles.get(case[f"{slot}_id"], frozenset())
                                                   for slot in ("lead", "worker")})}
    openings: dict[str, Definition | None] = {}
    items: list[DueItem] = []
    for case, d in judged:
        if isinstance(d, DueItem):
            items.append(d)
            continue
        if not d.states[case["state"]].open:
            continue
        found = {k: from_text(v) for k, v in records.case_markers(conn, case["id"]).items()}
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
    return items


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
