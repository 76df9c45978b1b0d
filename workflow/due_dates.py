"""Due dates kept in the store: written with every change to a case, so that `due` reads the items due.

A deadline's due day depends on the case's markers and state, its lead's and worker's roles, its
protocol version and England's bank holidays, never on the day it is looked at. So every action
that changes any of these re-makes the case's rows in its own unit of work (``refresh``), and
``due`` reads them through an index instead of judging every open case. A case whose rows are
missing, or were made under other holidays or another version, is judged by ``due`` itself
(``oversight.recomputed_due_items`` is that judgement for every case, kept as the check), and
``audit verify`` compares every kept row with what the case says.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from casework.store import Connection, audit, records
from casework.store.parts import Span

from .calendar import holidays_fingerprint
from .clock import from_text
from .deadlines import due_dates_of
from ..errors import CaseworkError
from .hydrate import staff_from_row

if TYPE_CHECKING:  # pragma: no cover
    from .definition import Definition
    from .workspace import Casework

__all__ = ["refresh", "refresh_stored", "refresh_held_by", "refresh_all", "refresh_stale", "divergences"]


def refresh(conn: Connection, definition: "Definition", case_id: str, state: str, markers: Mapping[str, datetime],
            holder_roles: frozenset[str]) -> None:
    """Re-make one case's due dates as the case now stands (inside the unit of work that changed it)."""
    due = [(name, day.isoformat())
           for name, _dl, day in due_dates_of(state, markers, definition.deadlines, definition.calendar_of,
                                               holder_roles)]
    records.replace_due(conn, case_id, due, holidays_fingerprint(), definition.digest)


def _stored_case(conn: Connection, cw: "Casework", row: Mapping[str, Any]) -> tuple["Definition", dict[str, datetime],
                                                                                 frozenset[str]] | None:
    """The version, markers and holders' roles of a stored case (None: its version cannot be read)."""
    try:
        definition = cw.versions.of(conn, row["policy"], row["policy_digest"])
    except CaseworkError:
        return None
    markers = {k: from_text(v) for k, v in records.case_markers(conn, row["id"]).items()}
    ids = [i for i in (row["lead_id"], row["worker_id"]) if i]
    roles: frozenset[str] = frozenset()
    for person in records.staff_by_ids(conn, ids).values():
        roles |= staff_from_row(person).roles
    return definition, markers, roles


def refresh_stored(conn: Connection, cw: "Casework", case_id: str) -> None:
    """Re-make a case's due dates from what the store holds (after a migration, a staff change, a rebuild)."""
    row = records.get_case(conn, case_id)
    if row is None:
        return
    found = _stored_case(conn, cw, row)
    if found is None:  # `due` judges it itself, and says it cannot be judged
        conn.execute("delete_due_case", {"b_id": case_id})
        return
    refresh(conn, found[0], case_id, row["state"], found[1], found[2])


def refresh_held_by(conn: Connection, cw: "Casework", staff_id: str) -> None:
    """After a change to a person's roles: re-make the due dates of the cases they lead or work (a deadline may
    run only while its holder has a role, e.g. a community care worker's supervision)."""
    for slot in ("lead_id", "worker_id"):
        for row in records.cases_held_as(conn, slot, staff_id):
            refresh_stored(conn, cw, row["id"])


def refresh_all(conn: Connection, cw: "Casework") -> int:
    """Re-make the due dates of every case (after a rebuild: the cases may stand differently)."""
    records.clear_due(conn)
    return refresh_stale(conn, cw)


def refresh_stale(conn: Connection, cw: "Casework") -> int:
    """Make the due dates of every case that has none, or has them under other holidays or another version
    (what 'casework init' does for a store upgraded to kept due dates, or after ``holidays`` changed)."""
    made = 0
    for row in records.due_stale(conn, (), holidays_fingerprint()):
        if row["policy_digest"] is not None:
            refresh_stored(conn, cw, row["id"])
            made += 1
    return made


def divergences(conn: Connection, cw: "Casework", cases: Mapping[str, Mapping[str, Any]],
                   markers: Mapping[tuple[str, str], str], roles: Mapping[str, frozenset[str]],
                   span: Span = (None, None)) -> list[audit.Broken]:
    """Every case in *span* whose kept due dates differ from what the case says: an edit of the rows would hide
    what is due from the managers who rely on `due`. Each case is taken as the audit chains say it stands
    (*cases*, *markers* keyed (case, marker), and each person's *roles*: a replay of the log), not read again:
    a case whose rows differ from its chain is reported by the replay's own check."""
    calendar, found = holidays_fingerprint(), []
    kept: dict[str, dict[str, str]] = {}
    names, rows = records.table_rows(conn, "due_dates", span)
    case_at, deadline_at, due_at = names.index("case_id"), names.index("deadline"), names.index("due_on")
    for row in rows:
        kept.setdefault(row[case_at], {})[row[deadline_at]] = row[due_at]
    names, rows = records.table_rows(conn, "due_cases", span)
    case_at, calendar_at, digest_at = names.index("case_id"), names.index("calendar"), names.index("digest")
    made = {r[case_at]: r[digest_at] for r in rows if r[calendar_at] == calendar}
    by_case: dict[str, dict[str, datetime]] = {}
    for (case_id, marker), at in markers.items():
        if case_id in made:
            by_case.setdefault(case_id, {})[marker] = from_text(at)
    for case_id in sorted(made):
        case = cases.get(case_id)
        if case is None or case["policy_digest"] in (None, "") or made[case_id] != case["policy_digest"]:
            continue  # `due` judges such a case itself, whatever rows it has
        try:
            definition = cw.versions.of(conn, case["policy"], case["policy_digest"])
        except CaseworkError:
            continue
        held: frozenset[str] = frozenset()
        for person in (case["lead_id"], case["worker_id"]):
            held |= roles.get(person, frozenset()) if person else frozenset()
        should = {name: day.isoformat() for name, _dl, day in
                  due_dates_of(case["state"], by_case.get(case_id, {}), definition.deadlines, definition.calendar_of,
                               held)}
        if kept.get(case_id, {}) != should:
            found.append(_differs(case_id, kept.get(case_id, {}), should))
    return found


def _differs(case_id: str, kept: dict[str, str], should: dict[str, str]) -> audit.Broken:
    return audit.Broken(f"case:{case_id}", 0, None,
                        f"its kept due dates {kept} differ from what the case says {should} (changed outside "
                        f"casework); 'casework audit rebuild' makes them again")
