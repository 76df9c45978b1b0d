"""Rows from the store → domain objects the engine understands."""
from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any, Collection, Iterable, Mapping

from casework.store import Connection, records
from casework.store.audit import Head

from .clock import from_text
from .identity import StoreState
from ..errors import CaseNotFound, StaffNotFound
from .people import Case, Fact, FactLog, Staff
from .snapshots import CaseRecords, Snapshots

__all__ = ["staff_from_row", "load_staff", "named_staff", "load_case", "load_case_and_actor", "load_case_for_write"]


def staff_from_row(row: dict[str, Any]) -> Staff:
    """A staff row as a Staff value."""
    until, left = row.get("registered_until"), row.get("left_on")
    return Staff(row["id"], row["name"], frozenset(row["roles"]), row.get("team"), row.get("registration"),
                 date.fromisoformat(until) if until else None, row.get("pcf_level"),
                 frozenset(row.get("training") or ()), login=row.get("login"),
                 left_on=date.fromisoformat(left) if left else None)


def load_staff(conn: Connection, staff_id: str) -> Staff:
    """A staff member by id; unknown ids suggest the closest known ones."""
    row = records.get_staff(conn, staff_id)
    if row is None:
        raise StaffNotFound(staff_id, [s["id"] for s in records.all_staff(conn)])
    return staff_from_row(row)


def named_staff(conn: Connection, people: dict[str, Staff], staff_id: str) -> Staff:
    """The person *staff_id* read with the case, or StaffNotFound with the closest ids."""
    if staff_id not in people:
        load_staff(conn, staff_id)  # raises StaffNotFound with suggestions
    return people[staff_id]


def load_case(conn: Connection, case_id: str, snapshots: Snapshots | None = None) -> Case:
    """A case with its allocation and facts, every person resolved."""
    return load_case_for_write(conn, case_id, (), snapshots)[0]


def load_case_and_actor(conn: Connection, case_id: str, actor: str, snapshots: Snapshots | None = None,
                        lock: bool = False) -> tuple[Case, Staff, Head, StoreState]:
    """The case, the person acting on it, the head of the case's audit chain (the row held, with *lock*)
    and the store's authentication setting."""
    case, people, head, authentication = load_case_for_write(conn, case_id, (actor,), snapshots, lock)
    if actor not in people:
        raise StaffNotFound(actor, [s["id"] for s in records.all_staff(conn)])
    return case, people[actor], head, authentication


def load_case_for_write(conn: Connection, case_id: str, extra: Iterable[str] = (),
                        snapshots: Snapshots | None = None,
                        lock: bool = False) -> tuple[Case, dict[str, Staff], Head, StoreState]:
    """The case, the staff named in it and in *extra*, its audit chain head (seq, hash) and what identity
    needs to know of the store (its authentication setting, the staff and settings chains' heads).

    With *snapshots*, records kept at the case's current version and staff kept at the
    staff chain's current head are reused instead of read again. With *lock*, the case's row
    is held until the unit of work ends (see records.get_case_and_heads).
    """
    row = records.get_case_and_heads(conn, case_id, lock)
    if row is None:
        raise CaseNotFound(case_id)
    kept = snapshots.case(case_id, row["version"]) if snapshots else None
    if kept is None:
        held = records.case_holders(conn, case_id)
        kept = CaseRecords(
            row["version"], tuple(records.latest_facts(conn, case_id)),
            {k: from_text(v) for k, v in records.case_markers(conn, case_id).items()},
            _former_leads(held, row["lead_id"]), *_hand_overs(held))
        if snapshots:
            snapshots.keep(case_id, kept)
    ids = {row[k] for k in ("lead_id", "supervisor_id", "worker_id", "previous_lead_id") if row[k]}
    ids.update(extra)
    for f in kept.fact_rows:
        ids.add(f["by_id"])
        ids.update(f["with_ids"])
    people = _people(conn, ids, row["staff_seq"], snapshots)

    def person(key: str) -> Staff | None:
        return people.get(row[key]) if row[key] else None

    found = Case(
        id=row["id"], policy=row["policy"], team=row["team"], state=row["state"], version=row["version"],
        opened_at=from_text(row["opened_at"]), state_entered_at=from_text(row["state_entered_at"]),
        allocated_at=from_text(row["allocated_at"]) if row["allocated_at"] else None,
        lead=person("lead_id"), supervisor=person("supervisor_id"), worker=person("worker_id"),
        previous_lead=person("previous_lead_id"),
        facts=FactLog(_facts(kept.fact_rows, people), partial(_more_facts, conn, case_id, row["staff_seq"], snapshots)),
        markers=dict(kept.markers),
        former_leads=kept.former_leads,
        holder_since=dict(kept.holder_since), holder_prior=dict(kept.holder_prior),
        policy_digest=row["policy_digest"],
    )
    return found, people, (row["head_seq"], row["head_hash"]), StoreState(row["authentication"], row["staff_hash"],
                                                                          row["settings_hash"])


def _facts(rows: Iterable[Mapping[str, Any]], people: Mapping[str, Staff]) -> list[Fact]:
    """Fact rows as Facts (a fact by someone no longer on the staff list is not evidence)."""
    return [Fact(f["name"], from_text(f["at"]), people[f["by_id"]],
                 tuple(people[w] for w in f["with_ids"] if w in people), f["note"], f["state"])
            for f in rows if f["by_id"] in people]


def _more_facts(conn: Connection, case_id: str, staff_seq: int | None, snapshots: Snapshots | None,
                names: Collection[str] | None) -> list[Fact]:
    """The facts of *names* (None: all) of a case, read when a question goes past the latest of each name."""
    with conn.current() as link:
        rows = records.case_facts(link, case_id, names)
        ids = {f["by_id"] for f in rows} | {w for f in rows for w in f["with_ids"]}
        return _facts(rows, _people(link, ids, staff_seq, snapshots))


def _people(conn: Connection, ids: set[str], staff_seq: int | None,
            snapshots: Snapshots | None) -> dict[str, Staff]:
    known, missing = snapshots.staff(staff_seq, ids) if snapshots else ({}, ids)
    read = {sid: staff_from_row(r) for sid, r in records.staff_by_ids(conn, missing).items()}
    if snapshots:
        snapshots.keep_staff(staff_seq, read)
    return {**known, **read}


def _former_leads(held: list[dict[str, Any]], current: str | None) -> tuple[str, ...]:
    """Everyone who led the case but its lead now, the latest first."""
    leads = sorted((h for h in held if h["slot"] == "lead" and h["staff_id"] != current), key=lambda h: -h["version"])
    return tuple(h["staff_id"] for h in leads)


def _hand_overs(held: list[dict[str, Any]]) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """When each slot last changed hands, and the time before (people.holder_changes, from the holders rows):
    the slot's holder now took it last, and whoever held it before them took it the time before."""
    since: dict[str, datetime] = {}
    prior: dict[str, datetime] = {}
    for h in sorted(held, key=lambda h: h["version"]):
        if h["slot"] in since:
            prior[h["slot"]] = since[h["slot"]]
        since[h["slot"]] = from_text(h["at"])
    return since, prior
