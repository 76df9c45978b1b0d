"""The refinement proof of a local protocol: every national action compared, and what was found.

An action whose local definition is the same as national's (who, requirements, states,
deadlines it reads) is judged the same in every situation and counts as compared by
identity; every other one is searched. A passed proof is kept in the user's cache under
the definition's digest, national's digest and the search's version, so only the first
use of a changed file pays for the search.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from random import Random
from typing import Any

from ..definition import Definition
from ..merging import without_origins
from ..user_cache import cache_directory
from .actions import Action, Allocation, Move, Recording
from .search import Found, explore
from .timescales import bypasses, compare_deadline
from .universe import Universe

__all__ = ["Proof", "Counterexample", "prove", "baseline_proof", "SEARCH_VERSION"]

#: bump whenever the search or the floor changes what it accepts, so cached proofs are redone
SEARCH_VERSION = 1

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Counterexample:
    """A situation in which the local protocol allows what national refuses, in words."""

    path: Key
    action: str
    situation: tuple[str, ...]
    national_says: tuple[str, ...]
    fix: str
    local: str = ""

    def problem(self) -> str:
        lines = [f"{self.local or 'this protocol'} allows what national refuses: {self.action}"]
        lines += [f"    {line}" for line in self.situation]
        lines += [f"    national refuses: {reason}" for reason in self.national_says]
        return "\n".join(lines)


@dataclass(frozen=True)
class Proof:
    """What the refinement search compared for one protocol, and any counterexample."""

    protocol: str
    digest: str
    actions: int = 0
    identical: int = 0
    situations: int = 0
    counterexamples: tuple[Counterexample, ...] = ()
    baseline: bool = False
    cached: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.counterexamples

    def summary(self) -> str:
        """'refines national: 31 actions compared (24 identical), 18,402 situations explored'."""
        if self.baseline:
            return "the national baseline"
        return (f"refines national: {self.actions} national actions compared ({self.identical} identical to "
                f"national, {self.actions - self.identical} searched), {self.situations:,} situations explored"
                + (" (proof reused from the cache)" if self.cached else ""))


def baseline_proof(definition: Definition) -> Proof:
    """National is the floor itself."""
    return Proof(definition.name, definition.digest, baseline=True)


def _same(a: Any, b: Any) -> bool:
    """Whether two parts of definitions enforce the same, whoever wrote them."""
    return without_origins(a.model_dump(mode="json")) == without_origins(b.model_dump(mode="json"))


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
    for name, ev in national.events.items():
        if same_states and _same(ev, local.events[name]) and \
                _deadlines_read(national, name) == _deadlines_read(local, name):
            identical += 1
        else:
            searched.append(Move(national, local, name))
    for name, ev in local.events.items():
        if name in national.events or ev.to not in national.states:
            continue
        pairs = [s for s in ev.sources if s in national.states and s != ev.to]
        if not pairs:
            continue
        same_pair = tuple(n for n, e in national.events.items() if e.to == ev.to and set(e.sources) & set(pairs))
        if same_pair:
            searched.append(Move(national, local, name, same_pair))
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


def _search(national: Definition, local: Definition, effort: float, seed: int | None) -> Proof:
    notes: list[str] = []
    actions, identical = _actions(national, local, notes)
    rng = Random(int(local.digest[:16] or "0", 16) if seed is None else seed)
    universe = Universe.of(national, local)
    explored, found = 0, []
    for action in actions:
        count, loosening = explore(action, universe, rng, effort)
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


# the cache ----------------------------------------------------------------------------------------

_MEMO: dict[str, Proof] = {}


def _key(national: Definition, local: Definition) -> str:
    return f"{local.digest}-{national.digest[:16]}-v{SEARCH_VERSION}"


def _cached(key: str) -> Proof | None:
    if key in _MEMO:
        return _MEMO[key]
    directory = cache_directory()
    if directory is None:
        return None
    try:
        data = json.loads((directory / "proofs" / f"{key}.json").read_text(encoding="utf-8"))
        proof = Proof(data["protocol"], data["digest"], int(data["actions"]), int(data["identical"]),
                      int(data["situations"]), notes=tuple(data.get("notes", ())), cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _MEMO[key] = proof
    return proof


def _keep(key: str, proof: Proof) -> None:
    _MEMO[key] = replace(proof, cached=True)
    directory = cache_directory()
    if directory is None:
        return
    body = {k: v for k, v in asdict(proof).items() if k not in ("counterexamples", "cached", "baseline")}
    try:
        folder = directory / "proofs"
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".proof-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        return  # a cache that cannot be written only costs the next command the search


def prove(national: Definition, local: Definition, effort: float = 1.0, use_cache: bool = True,
          seed: int | None = None) -> Proof:
    """Search for any situation where *local* allows what *national* refuses; reuse a passed proof.

    The search is deterministic (seeded by the digest); *seed* and *effort* let a test run an
    independent, longer search over the same definition.
    """
    key = _key(national, local)
    if use_cache and (cached := _cached(key)) is not None:
        return cached
    proof = _search(national, local, effort, seed)
    if proof.ok and use_cache:
        _keep(key, proof)
    return proof
