"""National timescales under a local protocol: never later, never dropped, never bypassed (WT-6).

Two searches. The first computes each national deadline under both protocols for cases
in every state it runs in, held by every role, started on days around weekends and bank
holidays, met or not: wherever national has something due, the local protocol must have
it due no later. The second walks the local protocol's moves: no path may bring a case
into a state where a national deadline runs without passing the point it runs from (a
move from referral straight into an s47 enquiry would leave no ICPC due).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator

from ..clock import LONDON
from ..deadlines import DeadlineDef, Marker, due_for_case
from ..definition import Definition
from ..roles import ROLES, roles_phrase

__all__ = ["LateDeadline", "Bypass", "compare_deadline", "bypasses"]

Key = tuple[Any, ...]

#: start days: ordinary days, Fridays, and days before England's bank holidays and Christmas
_STARTS = tuple(date.fromisoformat(d) for d in (
    "2025-01-06", "2025-01-10", "2025-04-16", "2025-04-17", "2025-05-02", "2025-05-23", "2025-08-22",
    "2025-12-19", "2025-12-24", "2026-01-30", "2026-02-27", "2026-03-31", "2026-08-28", "2024-02-29"))
_MET_AFTER = (1, 10, 45, 100)


@dataclass(frozen=True)
class LateDeadline:
    """A case where national has something due and the local protocol has it later, or not at all."""

    name: str
    state: str
    holders: frozenset[str]
    markers: dict[str, date]
    national_due: date
    local_due: date | None

    def lines(self) -> list[str]:
        held = f"held by a {roles_phrase(sorted(self.holders))}" if self.holders else "whoever holds it"
        out = [f"a case in state {self.state!r}, {held}"]
        out += [f"{_marker_text(k)} on {v:%a %d %b %Y}" for k, v in sorted(self.markers.items(), key=lambda i: i[1])]
        out.append(f"national: {self.name!r} is due on {self.national_due:%a %d %b %Y}")
        out.append(f"local: {'due on ' + format(self.local_due, '%a %d %b %Y') if self.local_due else 'nothing due'}")
        return out


@dataclass(frozen=True)
class Bypass:
    """A path of local moves into a state where a national deadline runs, never passing its start."""

    name: str
    path: tuple[tuple[str, str, str], ...]  # (event, from, to)

    def lines(self) -> list[str]:
        steps = " → ".join([self.path[0][1], *(f"{e} → {to}" for e, _, to in self.path)])
        return [f"moves: {steps}", f"national's {self.name!r} never starts on this path, so it is never due"]


def _marker_text(key: str) -> str:
    kind, name = key.split(":", 1)
    return {"entered": f"entered {name!r}", "event": f"{name!r} made", "fact": f"{name!r} recorded"}[kind]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), LONDON)


def _due(d: Definition, name: str, dl: DeadlineDef, state: str, markers: dict[str, date], roles: frozenset[str],
         as_of: date) -> date | None:
    items = due_for_case("C-1", "team", state, {k: _at(v) for k, v in markers.items()}, {name: dl}, d.calendar_of,
                         as_of, roles)
    return items[0].due if items else None


def _situations(national: DeadlineDef, local: DeadlineDef) -> Iterator[tuple[dict[str, date], int]]:
    start = national.start
    for first in _STARTS:
        base = {start.key(): first} if start.day is None else {}
        if local.start != start and local.start.day is None:
            for k in (0, 5):
                yield {**base, local.start.key(): first + timedelta(days=k)}, 0
        yield dict(base), 0
        for marker in {*national.met_by, *local.met_by}:
            for k in _MET_AFTER:
                yield {**base, marker.key(): first + timedelta(days=k)}, k


def compare_deadline(name: str, national: Definition, local: Definition) -> tuple[int, LateDeadline | None]:
    """Situations explored for national deadline *name*, and one where the local protocol is later."""
    ndl, ldl = national.deadlines[name], local.deadlines[name]
    explored = 0
    holder_sets: list[frozenset[str]] = [frozenset()] + [frozenset({r}) for r in ROLES]
    for state in ndl.while_in:
        for roles in holder_sets:
            for markers, _ in _situations(ndl, ldl):
                as_of = max(markers.values(), default=_STARTS[0]) + timedelta(days=30)
                explored += 1
                theirs = _due(national, name, ndl, state, markers, roles, as_of)
                if theirs is None:
                    continue
                mine = _due(local, name, ldl, state, markers, roles, as_of)
                if mine is None or mine > theirs:
                    return explored, LateDeadline(name, state, roles, markers, theirs, mine)
    return explored, None


def _blocked(marker: Marker, d: Definition) -> tuple[set[str], set[str]]:
    """States and events that set *marker* (a deadline's start)."""
    if marker.entered:
        return {marker.entered}, set()
    if marker.event:
        return set(), {marker.event}
    return set(), set()


def bypasses(national: Definition, local: Definition) -> Iterator[tuple[Key, Bypass]]:
    """Each national deadline the local moves can reach without starting, with the shortest such path."""
    for name, dl in national.deadlines.items():
        if not (dl.start.entered or dl.start.event):
            continue
        if _path(national, dl, national.initial) is not None:
            continue  # national itself runs it from a point a case need not pass; nothing to keep
        path = _path(local, dl, local.initial)
        if path is not None:
            first_local = next((e for e, _, _ in path if e not in national.events), path[-1][0])
            yield ("events", first_local), Bypass(name, tuple(path))


def _path(d: Definition, dl: DeadlineDef, start: str) -> list[tuple[str, str, str]] | None:
    states, events = _blocked(dl.start, d)
    if start in states:
        return None
    seen, frontier = {start: []}, [start]  # type: dict[str, list[tuple[str, str, str]]], list[str]
    while frontier:
        nxt = []
        for state in frontier:
            for event, ev in d.events_from(state):
                if event in events or ev.to in states or ev.to in seen:
                    continue
                seen[ev.to] = [*seen[state], (event, state, ev.to)]
                if ev.to in dl.while_in:
                    return seen[ev.to]
                nxt.append(ev.to)
        frontier = nxt
    return None
