"""Compare two protocols: who may do what, and what must hold first, in one and not the other."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .definition import Definition, HolderPolicy

__all__ = ["Difference", "diff_policies"]


@dataclass(frozen=True)
class Difference:
    """One place where two protocols differ: what only the first has, and what only the second has."""

    area: str  # "event", "allocation", "fact", "deadline", "state"
    name: str
    only_in_a: tuple[str, ...] = ()
    only_in_b: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"area": self.area, "name": self.name, "only_in_a": list(self.only_in_a),
                "only_in_b": list(self.only_in_b)}


def _rules(ids: tuple[str, ...]) -> str:
    return f" [{', '.join(ids)}]" if ids else ""


def _event_lines(d: Definition, name: str) -> set[str]:
    ev = d.events.get(name)
    if ev is None:
        return {"(no such event)"}
    lines = {f"moves {', '.join(ev.sources)} -> {ev.to}"}
    lines |= {f"who: {c.describe()}{_rules(c.rules)}" for c in ev.who}
    lines |= {f"requires: {r.text()}{_rules(r.all_rules())}" for r in ev.requires}
    return lines


def _holder_lines(policies: tuple[HolderPolicy, ...], slot: str) -> set[str]:
    lines = set()
    for p in policies:
        head = f"{slot}: {', '.join(p.roles)} on {'/'.join(p.paths)}{_rules(p.rules)}"
        lines.add(head)
        lines |= {f"{head}: requires {r.text()}{_rules(r.all_rules())}" for r in p.requires}
    return lines


def _allocation_lines(d: Definition) -> set[str]:
    a = d.allocation
    lines = {f"who allocates: {c.describe()}{_rules(c.rules)}" for c in a.who}
    lines |= {f"supervisor: {c.describe()}{_rules(c.rules)}" for c in a.supervisors}
    lines |= {f"who changes only the worker: {c.describe()}{_rules(c.rules)}" for c in a.workers_who}
    lines |= _holder_lines(a.leads, "lead") | _holder_lines(a.workers, "worker")
    lines |= {f"requires: {r.text()}{_rules(r.all_rules())}" for r in a.requires}
    return lines


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
                              {f"recorded by: {c.describe()}" for c in fa.who} if fa else {"(no such fact)"},
                              {f"recorded by: {c.describe()}" for c in fb.who} if fb else {"(no such fact)"}))
    for name in dict.fromkeys([*a.deadlines, *b.deadlines]):
        da, db = a.deadlines.get(name), b.deadlines.get(name)
        found.append(_compare("deadline", name, {f"{da.text()}{_rules(da.rules)}"} if da else {"(none)"},
                              {f"{db.text()}{_rules(db.rules)}"} if db else {"(none)"}))
    for name in dict.fromkeys([*a.states, *b.states]):
        found.append(_compare("state", name, {"exists"} if name in a.states else set(),
                              {"exists"} if name in b.states else set()))
    return [d for d in found if d is not None]
