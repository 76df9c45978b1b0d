"""Compare two protocols: who may do what, and what must hold first, in one and not the other.

In plain words, as refusals and the handbook put them: moves, stages and records by their titles,
roles as people say them. Each difference keeps the identifier of what it is about (``name``) for
tools and for the commands that act on it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .definition import Definition, HolderPolicy
from .roles import roles_phrase

__all__ = ["Difference", "diff_policies"]


@dataclass(frozen=True)
class Difference:
    """One place where two protocols differ: what only the first has, and what only the second has."""

    area: str  # "event", "allocation", "fact", "deadline", "state"
    name: str
    only_in_a: tuple[str, ...] = ()
    only_in_b: tuple[str, ...] = ()
    #: what the difference is about, by its title in either protocol ('Hold a CIN review')
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"area": self.area, "name": self.name, "title": self.title, "only_in_a": list(self.only_in_a),
                "only_in_b": list(self.only_in_b)}


def _rules(ids: tuple[str, ...]) -> str:
    return f" [{', '.join(ids)}]" if ids else ""


_PATHS = {"cin": "Child in Need", "cp": "child protection"}


def _event_lines(d: Definition, name: str) -> set[str]:
    ev = d.events.get(name)
    if ev is None:
        return {"(no such move)"}
    lines = {f"moves a case from {d.stages_phrase(ev.sources)} to {d.stages_phrase([ev.to])}"}
    lines |= {f"who may: {c.describe()}{_rules(c.rules)}" for c in ev.who}
    lines |= {f"first: {r.text(d)}{_rules(r.all_rules())}" for r in ev.requires}
    return lines


def _holder_lines(d: Definition, policies: tuple[HolderPolicy, ...], slot: str) -> set[str]:
    lines = set()
    for p in policies:
        paths = " and ".join(_PATHS.get(path, path) for path in p.paths)
        head = f"{slot}: a {roles_phrase(p.roles)}, on {paths} cases{_rules(p.rules)}"
        lines.add(head)
        lines |= {f"{head}; first: {r.text(d)}{_rules(r.all_rules())}" for r in p.requires}
    return lines


def _allocation_lines(d: Definition) -> set[str]:
    a = d.allocation
    lines = {f"who allocates: {c.describe()}{_rules(c.rules)}" for c in a.who}
    lines |= {f"supervisor: {c.describe()}{_rules(c.rules)}" for c in a.supervisors}
    lines |= {f"who changes only the worker: {c.describe()}{_rules(c.rules)}" for c in a.workers_who}
    lines |= _holder_lines(d, a.leads, "lead") | _holder_lines(d, a.workers, "worker")
    lines |= {f"first: {r.text(d)}{_rules(r.all_rules())}" for r in a.requires}
    return lines


def _title(a: Definition, b: Definition, area: str, name: str) -> str:
    """The title of what a difference is about, from whichever protocol has it."""
    for d in (a, b):
        areas: dict[str, dict[str, Any]] = {"event": d.events, "fact": d.facts, "deadline": d.deadlines,
                                            "state": d.states}
        found = areas.get(area, {}).get(name)
        if found is not None and getattr(found, "title", None):
            return str(found.title)
    return "who may hold a case" if area == "allocation" else name


def _compare(area: str, name: str, a: set[str], b: set[str]) -> Difference | None:
    if a == b:
        return None
    return Difference(area, name, tuple(sorted(a - b)), tuple(sorted(b - a)))


def diff_policies(a: Definition, b: Definition) -> list[Difference]:
    """Every difference, events first (in A's order, then B's new ones), then allocation, facts, deadlines."""
    found: list[Difference | None] = []
    for name in dict.fromkeys([*a.events, *b.events]):
        found.append(_compare("event", name, _event_lines(a, name), _event_lines(b, name)))
    found.append(_compare("allocation", "allocation", _allocation_lines(a), _allocation_lines(b)))
    for name in dict.fromkeys([*a.facts, *b.facts]):
        fa, fb = a.facts.get(name), b.facts.get(name)
        found.append(_compare("fact", name,
                              {f"recorded by: {c.describe()}" for c in fa.who} if fa else {"(no such record)"},
                              {f"recorded by: {c.describe()}" for c in fb.who} if fb else {"(no such record)"}))
    for name in dict.fromkeys([*a.deadlines, *b.deadlines]):
        da, db = a.deadlines.get(name), b.deadlines.get(name)
        found.append(_compare("deadline", name, {f"{da.text()}{_rules(da.rules)}"} if da else {"(none)"},
                              {f"{db.text()}{_rules(db.rules)}"} if db else {"(none)"}))
    for name in dict.fromkeys([*a.states, *b.states]):
        found.append(_compare("state", name, {"exists"} if name in a.states else set(),
                              {"exists"} if name in b.states else set()))
    return [replace(d, title=_title(a, b, d.area, d.name)) for d in found if d is not None]
