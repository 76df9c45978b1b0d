"""What a long-running process may remember between actions on the same cases.

Judging a move needs more than the case row: its facts, markers, former leads and the
people involved. Every change to those bumps the case's version (facts, markers and
allocations) or adds an entry to the staff audit chain (people), and both are read with
the case row in one statement. So an embedding service that moves the same cases again
and again can reuse what it read last time, keyed by those numbers, and still never judge
on stale data: a different version or staff head is simply a miss. A CLI process starts
empty and reads everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any, Iterable, Mapping

from cachetools import LRUCache

from .people import Staff

__all__ = ["CaseRecords", "Snapshots", "with_fact", "with_lead"]


@dataclass(frozen=True)
class CaseRecords:
    """A case's facts (as rows), markers and former leads at one version."""

    version: int
    fact_rows: tuple[Mapping[str, Any], ...]
    markers: Mapping[str, datetime]
    former_leads: tuple[str, ...]
    #: when each slot last changed hands, and the change before (people.holder_changes)
    holder_since: Mapping[str, datetime]
    holder_prior: Mapping[str, datetime]


class Snapshots:
    """Version-keyed case records and staff, shared by the threads of one workspace."""

    def __init__(self, cases: int = 10_000):
        self._cases: LRUCache[str, CaseRecords] = LRUCache(maxsize=cases)
        self._staff: dict[str, Staff] = {}
        self._staff_seq: int | None = None
        self._lock = Lock()

    def case(self, case_id: str, version: int) -> CaseRecords | None:
        """The records of *case_id* if they were kept at exactly *version*."""
        with self._lock:
            found = self._cases.get(case_id)
        return found if found is not None and found.version == version else None

    def keep(self, case_id: str, records: CaseRecords) -> None:
        """Remember a case's records: only what was committed at ``records.version``."""
        with self._lock:
            self._cases[case_id] = records

    def advance(self, case_id: str, version: int, new_version: int, markers: Mapping[str, datetime], *,
                fact: Mapping[str, Any] | None = None, lead: tuple[str | None, str] | None = None,
                holders: tuple[Mapping[str, datetime], Mapping[str, datetime]] | None = None) -> None:
        """After committing a change from *version* to *new_version*: these markers, and with *fact* one more
        fact row, with *lead* (the lead before, the lead now) a change of lead, with *holders* when each slot
        changed hands. So the next action on the case reads its row alone (a bulk import's every action)."""
        with self._lock:
            found = self._cases.get(case_id)
            if found is None or found.version != version:
                return
            self._cases[case_id] = CaseRecords(
                new_version, found.fact_rows if fact is None else with_fact(found.fact_rows, fact), dict(markers),
                found.former_leads if lead is None else with_lead(found.former_leads, *lead),
                *(holders if holders is not None else (found.holder_since, found.holder_prior)))

    def staff(self, staff_seq: int | None, ids: Iterable[str]) -> tuple[dict[str, Staff], set[str]]:
        """Known staff among *ids* as of staff chain head *staff_seq*, and the ids still to read."""
        with self._lock:
            if staff_seq != self._staff_seq:
                self._staff, self._staff_seq = {}, staff_seq
            known = {i: self._staff[i] for i in ids if i in self._staff}
        return known, set(ids) - set(known)

    def clear(self) -> None:
        """Forget everything: the tables were rewritten under unchanged versions (audit rebuild)."""
        with self._lock:
            self._cases.clear()
            self._staff, self._staff_seq = {}, None

    def keep_staff(self, staff_seq: int | None, people: Mapping[str, Staff]) -> None:
        """Remember staff read while the staff chain's head was *staff_seq*."""
        with self._lock:
            if staff_seq == self._staff_seq:
                self._staff.update(people)


def with_fact(rows: tuple[Mapping[str, Any], ...], row: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """The latest fact of each name (oldest first) after *row* is recorded, as the store's ``latest_facts``
    finds them: the rows at their name's marker, which only moves forward (ties: all of them)."""
    latest = max((r["at"] for r in rows if r["name"] == row["name"]), default=None)
    if latest is not None and row["at"] < latest:
        return rows
    kept = [r for r in rows if r["name"] != row["name"] or r["at"] == row["at"]]
    return tuple(sorted([*kept, row], key=lambda r: r["at"]))  # stable: the new row after its ties, as by id


def with_lead(former: tuple[str, ...], before: str | None, now: str) -> tuple[str, ...]:
    """The case's former leads, latest first, after its lead changes from *before* to *now*."""
    ahead = (before,) if before is not None and before != now else ()
    return (*ahead, *(f for f in former if f not in (now, before)))
