"""Whole-definition checks that no single field can see: references, reachability, safeguards.

Each finding is (path in the resolved definition, problem, fix); the loader turns the
path back into the file and line that wrote it.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from .deadlines import Marker
from .definition import Definition, HolderPolicy
from .model import dump
from .requirements import ActorClause, Requirement
from .requirements.logic import AnyOf, NoneOf

__all__ = ["check_definition", "citations", "uncited_rules", "Finding"]

Key = tuple[Any, ...]
Finding = tuple[Key, str, str]

_CP_CHECK = "lead_is_registered_social_worker"
_SUPERVISION = "supervised_if_unqualified"


def _kinds(requirements: Iterable[Requirement]) -> set[str]:
    return {r.kind for r in requirements}


def _states(d: Definition) -> list[Finding]:
    found: list[Finding] = []
    initial = [n for n, s in d.states.items() if s.initial]
    if not initial:
        found.append((("states",), "no state is 'initial: true'",
                      "mark the state every case starts in (e.g. referral) with 'initial: true'"))
    for extra in initial[1:] if len(initial) > 1 else ():
        found.append((("states", extra, "initial"),
                      f"{extra!r} is a second initial state ({initial[0]!r} is already initial)",
                      "keep exactly one state with 'initial: true'"))
    for name, ev in d.events.items():
        for i, source in enumerate(ev.sources):
            if source not in d.states:
                found.append((("events", name, "from", i), f"unknown state {source!r}",
                              f"use one of: {', '.join(d.states)}"))
        if ev.to not in d.states:
            found.append((("events", name, "to"), f"unknown state {ev.to!r}",
                          f"use one of: {', '.join(d.states)}"))
    if found or len(initial) != 1:
        return found
    reached, todo = {initial[0]}, [initial[0]]
    while todo:
        here = todo.pop()
        for _, ev in d.events_from(here):
            if ev.to not in reached:
                reached.add(ev.to)
                todo.append(ev.to)
    for name, state in d.states.items():
        if name not in reached:
            own = not d.extends or state.origin == d.name
            found.append((("states", name), f"state {name!r} cannot be reached from {initial[0]!r}",
                          f"add an event with 'to: {name}'" + (" or remove the state" if own else
                                                                 f" (it is {state.origin!r}'s: keep a move into it)")))
        exits = [e for _, e in d.events_from(name) if e.to != name]
        if state.open and not exits:
            found.append((("states", name), f"open state {name!r} has no way out",
                          "add an event leaving it, or mark it 'open: false' if cases end there"))
    return found


def _references(d: Definition) -> list[Finding]:
    found: list[Finding] = []
    for path, req in d.requirements():
        for fact in req.references().get("facts", ()):
            if fact not in d.facts:
                found.append((path, f"unknown fact {fact!r}",
                              f"declare it under 'facts:' or use one of: {', '.join(d.facts)}"))
        for state in req.references().get("states", ()):
            if state not in d.states:
                found.append((path, f"unknown state {state!r}", f"use one of: {', '.join(d.states)}"))
        for event in req.references().get("events", ()):
            if event not in d.events:
                found.append((path, f"unknown event {event!r}", f"use one of: {', '.join(d.events)}"))
        for deadline in req.references().get("deadlines", ()):
            if deadline not in d.deadlines:
                found.append((path, f"unknown deadline {deadline!r}",
                              f"declare it under 'deadlines:' or use one of: {', '.join(d.deadlines) or 'none yet'}"))
    return found


def _closure_reasons(d: Definition) -> list[Finding]:
    """Each closure reason ends the case: it names a state that is not open."""
    found: list[Finding] = []
    ended = [name for name, state in d.states.items() if not state.open]
    for code, reason in d.closure_reasons.items():
        if reason.to not in d.states or d.states[reason.to].open:
            found.append((("closure_reasons", code, "to"), f"closure reason {code!r} goes to {reason.to!r}, "
                          f"which is not a state where cases end", f"use one of: {', '.join(ended) or 'none yet'}"))
    return found


def _deadlines(d: Definition) -> list[Finding]:
    """Deadlines name known, open states and markers that can happen."""
    found: list[Finding] = []
    known: dict[str, Iterable[str]] = {"entered": list(d.states), "event": [*d.events, "allocate"],
                                       "fact": list(d.facts)}
    for name, dl in d.deadlines.items():
        for i, state in enumerate(dl.while_in):
            if state not in d.states:
                found.append((("deadlines", name, "while_in", i), f"unknown state {state!r}",
                              f"use one of: {', '.join(d.states)}"))
            elif not d.states[state].open:
                found.append((("deadlines", name, "while_in", i),
                              f"{state!r} is a final state: nothing is due on a closed case",
                              "name only open states"))
        markers: list[tuple[tuple[Any, ...], Marker]] = [(("deadlines", name, "start"), dl.start)]
        markers += [(("deadlines", name, "met_by", i), m) for i, m in enumerate(dl.met_by)]
        for path, marker in markers:
            kind, value = next(iter(dump(marker, exclude_none=True).items()))
            names = list(known.get(kind, ()))
            if kind != "day" and value not in names:
                found.append((path + (kind,), f"unknown {'state' if kind == 'entered' else kind} {value!r}",
                              f"use one of: {', '.join(names)}"))
    return found


def _safeguards(d: Definition) -> list[Finding]:
    """WT-5 (child protection only with a registered social worker as lead) and WT-3."""
    found: list[Finding] = []
    for name, ev in d.events.items():
        target = d.states.get(ev.to)
        if target is not None and target.path == "cp" and _CP_CHECK not in _kinds(ev.requires):
            found.append((("events", name, "requires"),
                          f"event {name!r} moves the case into child protection state {ev.to!r} "
                          f"without requiring a registered social worker as lead (WT-5)",
                          f"add '- {_CP_CHECK}: {{rules: [WT-5]}}' to its requires"))
    policy: HolderPolicy
    for j, policy in enumerate(d.allocation.leads):
        kinds = _kinds(policy.requires)
        if "cp" in policy.paths and _CP_CHECK not in kinds:
            found.append((("allocation", "leads", j, "paths"),
                          "lead practitioners on the child protection path must be registered "
                          "social workers (WT-5), but this policy does not require it",
                          f"add '- {_CP_CHECK}' to its requires or remove 'cp' from its paths"))
        if not kinds & {_CP_CHECK, _SUPERVISION}:
            # WT-3 turns on registration on the day, not on a role's name: a 'social_worker' whose
            # registration lapsed, or who never had one, needs a qualified supervisor like anyone else
            found.append((("allocation", "leads", j, "requires"),
                          "a lead practitioner who is not social-work-qualified on the day needs a named qualified "
                          "supervisor (WT-3), but this policy requires neither that nor a registered social worker",
                          f"add '- {_SUPERVISION}: {{rules: [WT-3]}}' (or '- {_CP_CHECK}') to its requires"))
    for j, policy in enumerate(d.allocation.workers):
        if "cp" in policy.paths:
            found.append((("allocation", "workers", j, "paths"),
                          "a worker other than the lead cannot hold a child protection case (WT-5)",
                          "remove 'cp' from its paths"))
    return found


def _requirement_citations(path: Key, req: Requirement) -> list[tuple[Key, str]]:
    found = [(path + ("rules",), rule) for rule in req.rules]
    if isinstance(req, (AnyOf, NoneOf)):
        for k, option in enumerate(req.options):
            found += _requirement_citations(path + (req.kind, k), option)
    return found


def _item_citations(path: Key, rules: tuple[str, ...], who: Iterable[ActorClause] = (),
                    requires: Iterable[Requirement] = ()) -> list[tuple[Key, str]]:
    """The rules of one item, of its who clauses and of its requirements (nested ones included)."""
    found = [(path + ("rules", i), rule) for i, rule in enumerate(rules)]
    for k, clause in enumerate(who):
        found += [(path + ("who", k, "rules", i), rule) for i, rule in enumerate(clause.rules)]
    for k, req in enumerate(requires):
        found += _requirement_citations(path + ("requires", k), req)
    return found


def citations(d: Definition) -> list[tuple[Key, str]]:
    """Every rule ID the definition cites, with the path of the citation, in definition order."""
    found: list[tuple[Key, str]] = []
    for name, state in d.states.items():
        found += _item_citations(("states", name), state.rules)
    for name, ev in d.events.items():
        found += _item_citations(("events", name), ev.rules, ev.who, ev.requires)
    for name, fact in d.facts.items():
        found += _item_citations(("facts", name), fact.rules, fact.who)
    alloc = d.allocation
    found += _item_citations(("allocation",), alloc.rules, alloc.who, alloc.requires)
    for k, clause in enumerate(alloc.supervisors):
        found += _item_citations(("allocation", "supervisors", k), clause.rules)
    for key, policies in (("leads", alloc.leads), ("workers", alloc.workers)):
        for j, policy in enumerate(policies):
            found += _item_citations(("allocation", key, j), policy.rules, requires=policy.requires)
    for name, dl in d.deadlines.items():
        found += _item_citations(("deadlines", name), dl.rules, dl.who)
    return found


def _rulebook(d: Definition, file_of: Callable[[Key], str] | None) -> list[Finding]:
    """Every cited rule is declared, so a reader can look up what it says and where it comes from."""
    undeclared: dict[str, list[Key]] = {}
    for path, rule in citations(d):
        if rule not in d.rulebook:
            undeclared.setdefault(rule, []).append(path)
    found: list[Finding] = []
    for rule, paths in undeclared.items():
        more = f" (and in {len(paths) - 1} more place{'s' if len(paths) > 2 else ''})" if len(paths) > 1 else ""
        where = file_of(paths[0]) if file_of else "the definition"
        found.append((paths[0], f"rule {rule!r} is cited here{more} but the rulebook does not declare it",
                      f"declare it under 'rulebook:' in {where} with says, quote and source"))
    return found


def uncited_rules(d: Definition) -> list[str]:
    """Rulebook entries that nothing in the definition cites (worth a note, not a refusal)."""
    cited = {rule for _, rule in citations(d)}
    return [rule for rule in d.rulebook if rule not in cited]


def check_definition(d: Definition, file_of: Callable[[Key], str] | None = None) -> list[Finding]:
    """Every finding for a validated definition; an empty list means it may be used.

    *file_of* names the file that wrote a path, so that a fix can say which file to change.
    """
    found = _states(d)
    if found:
        return found
    return _references(d) + _deadlines(d) + _closure_reasons(d) + _safeguards(d) + _rulebook(d, file_of)
