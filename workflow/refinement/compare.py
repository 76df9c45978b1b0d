"""Comparing a local protocol with national, action by action: by identity where nothing changed, else by search.

An action whose local definition is the same as national's (who, requirements, states,
deadlines it reads) is judged the same in every situation and counts as compared by
identity; every other one is searched (:mod:`.search`), and national's timescales are
computed under both protocols and walked for bypasses (:mod:`.timescales`).
"""
from __future__ import annotations

import json
from random import Random
from typing import Any

from ..definition import Definition
from ..engine import Engine
from ..merging import without_origins
from ..model import dump
from .actions import Action, Allocation, Move, Recording
from .outcome import Counterexample, Proof
from .search import Found, explore
from .timescales import bypasses, compare_deadline
from .universe import Universe

__all__ = ["search"]

#: how many differing actions are searched at full effort; beyond that the effort is shared, so a
#: protocol of a hundred changed moves is checked in seconds, not minutes
_FULL_EFFORT = 12


def _same(a: Any, b: Any) -> bool:
    """Whether two parts of definitions enforce the same, whoever wrote them."""
    return bool(without_origins(dump(a)) == without_origins(dump(b)))


def _states_same(national: Definition, local: Definition) -> bool:
    return all((s.path, s.open) == (local.states[n].path, local.states[n].open) for n, s in national.states.items())


def _deadlines_read(d: Definition, event: str) -> list[Any]:
    return [d.deadlines.get(r.deadline) for r in d.events[event].requires if r.kind == "not_overdue"]


def _counterexample(found: Found, local: Definition) -> Counterexample:
    verdict = found.national
    says = tuple(f"{u.sentence}" + (f" ({', '.join(u.rules)})" if u.rules else "") for u in verdict.unmet)
    keep = []
    for u in verdict.unmet:
        rules = f" ({', '.join(u.rules)})" if u.rules else ""
        keep.append({"who": f"narrow 'who' to people national admits{rules}",
                     "state": "leave only the states national's move leaves"}.get(u.kind, f"keep '{u.kind}'{rules}"))
    fix = "; ".join(dict.fromkeys(keep)) or "require what national requires here"
    return Counterexample(found.action.blame(verdict), found.action.label, tuple(found.situation.describe()), says,
                          fix, local.name)


def _actions(national: Definition, local: Definition, notes: list[str]) -> tuple[list[Action], int]:
    """The actions to search, and how many were compared by identity."""
    identical, searched = 0, []  # type: int, list[Action]
    same_states = _states_same(national, local)
    engines = (Engine(local), Engine(national))  # shared by every move: one machine per definition
    for name, ev in national.events.items():
        if same_states and _same(ev, local.events[name]) and \
                _deadlines_read(national, name) == _deadlines_read(local, name):
            identical += 1
        else:
            searched.append(Move(national, local, name, engines))
    shapes: set[str] = set()
    for name, ev in local.events.items():
        if name in national.events or ev.to not in national.states:
            continue
        pairs = [s for s in ev.sources if s in national.states and s != ev.to]
        if not pairs:
            continue
        shape = json.dumps([sorted(pairs), ev.to, without_origins({"who": dump(ev.who), "requires": dump(ev.requires)})],
                           sort_keys=True)
        if shape in shapes:
            identical += 1  # judged exactly as an earlier move of the same shape
            continue
        shapes.add(shape)
        same_pair = tuple(n for n, e in national.events.items() if e.to == ev.to and set(e.sources) & set(pairs))
        if same_pair:
            searched.append(Move(national, local, name, engines, same_pair))
        else:
            notes.append(f"move {name!r} ({', '.join(pairs)} → {ev.to}) is one national does not have; the proof "
                         f"covers national's own moves and the floor's checks, not this new path")
    if same_states and _same(national.allocation, local.allocation):
        identical += 1
    else:
        searched.append(Allocation(national, local))
    for name, fact in national.facts.items():
        if same_states and _same(fact, local.facts[name]):
            identical += 1
        else:
            searched.append(Recording(national, local, name))
    return searched, identical


def search(national: Definition, local: Definition, effort: float = 1.0, seed: int | None = None) -> Proof:
    """Compare every national action of *local* with national's; the first loosening of each is a counterexample."""
    notes: list[str] = []
    actions, identical = _actions(national, local, notes)
    rng = Random(int(local.digest[:16] or "0", 16) if seed is None else seed)
    universe = Universe.of(national, local)
    explored, found = 0, []
    if len(actions) > _FULL_EFFORT:
        notes.append(f"{len(actions)} actions differ from national: each was searched with {_FULL_EFFORT}/"
                     f"{len(actions)} of the usual effort, so that the check stays within seconds")
    share = effort * min(1.0, _FULL_EFFORT / max(len(actions), 1))
    for action in actions:
        count, loosening = explore(action, universe, rng, share)
        explored += count
        if loosening is not None:
            found.append(_counterexample(loosening, local))
    total = len(actions) + identical
    for name in national.deadlines:
        total += 1
        if _same(national.deadlines[name], local.deadlines[name]):
            identical += 1
            continue
        count, late = compare_deadline(name, national, local)
        explored += count
        if late is not None:
            dl = national.deadlines[name]
            found.append(Counterexample(("deadlines", name), f"the timescale {name!r}", tuple(late.lines()),
                                        (f"{dl.text()} ({', '.join(dl.rules)})",),
                                        "keep national's timescale, or make it shorter", local.name))
    for path, bypass in bypasses(national, local):
        dl = national.deadlines[bypass.name]
        found.append(Counterexample(path, f"reaching a state where {bypass.name!r} runs without starting it",
                                    tuple(bypass.lines()), (f"{dl.text()} ({', '.join(dl.rules)})",),
                                    f"make the move start from a state of your own, or pass through where "
                                    f"{bypass.name!r} starts", local.name))
    total += 2  # opening a case, and back-dating
    if local.states[local.initial].path != "cp" and local.initial == national.initial:
        identical += 1
    else:
        found.append(Counterexample(("states", local.initial), "opening a case",
                                    (f"a new case opens in {local.initial!r}",),
                                    (f"every case opens in {national.initial!r}",),
                                    f"remove 'initial' from states.{local.initial}", local.name))
    if local.backdate_days > national.backdate_days:
        found.append(Counterexample(("backdate_days",), "back-dating an action",
                                    (f"an action dated {local.backdate_days} days ago",),
                                    (f"national allows back-dating by at most {national.backdate_days} days (WT-7)",),
                                    f"give at most {national.backdate_days}", local.name))
    else:
        identical += 1
    return Proof(local.name, local.digest, total, identical, explored, tuple(found), notes=tuple(notes))
