"""The national floor, by construction: what a local protocol keeps of its base, and may only narrow.

A local protocol may add states, events, facts, requirements and deadlines, and narrow
who may act; it may never let anyone do what its base refuses. The loader merges so
that base requirements stay (appended), and :func:`keep_holder_requirements` gives every
local holder policy the requirements of the base policies that cover its roles. What a
merge cannot guarantee is checked here, as findings located in the local file:

- ``who`` (of a base event, a base fact, the allocation) and the supervisor clauses:
  every local clause is at least as narrow as some base clause;
- a base event keeps its target, and leaves only base states it left (or local ones);
- a base fact keeps its note, choice and joint-working conditions;
- every role and path a local holder policy opens is opened by a base policy;
- base states keep their path and openness, cases open in the base's initial state, and
  no local move takes a case off the child protection path;
- deadlines keep their start, the states they run in and the roles they apply to, are
  met by no new marker and are not lengthened; the back-dating window is not widened.

The refinement search (:mod:`workflow.refinement`) then checks the result against
national by exploring situations, so the two methods check each other.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from .definition import STAFF_CHANGES, Definition, EventDef, HolderPolicy
from .model import dump, replace
from .requirements import ActorClause, Requirement, clauses_phrase
from .roles import ROLES, SOCIAL_WORK_ROLES, roles_phrase

__all__ = ["keep_holder_requirements", "floor_findings", "uncovered_piece", "Finding"]

Key = tuple[Any, ...]
Finding = tuple[Key, str, str]

#: a relation to the case and the relations it implies
_IMPLIES = {"lead": {"lead", "allocated"}, "supervisor": {"supervisor", "allocated"},
            "worker": {"worker", "allocated"}, "allocated": {"allocated"}}


# who: every local clause at least as narrow as some base clause ---------------------------------


def _pieces(clause: ActorClause) -> Iterator[tuple[str, str | None]]:
    """The clause as a union of (one role, one relation) pieces, its other conditions shared: an exact split.

    No roles means any role (everyone holds at least one), or any social work role when
    the clause asks for qualification; 'allocated' means lead, supervisor or worker.
    """
    roles = clause.roles or tuple(r for r in ROLES if r in SOCIAL_WORK_ROLES or not clause.qualified)
    relations = ("lead", "supervisor", "worker") if clause.relation == "allocated" else (clause.relation,)
    for role in roles:
        for relation in relations:
            yield role, relation


def _within(clause: ActorClause, role: str, relation: str | None, base: ActorClause) -> bool:
    """Whether everyone fitting one piece of *clause* fits *base*, on every case and day."""
    if base.roles and role not in base.role_set:
        return False
    if base.qualified and not clause.qualified:
        return False
    if base.team == "case" and clause.team != "case":
        return False
    if base.relation is not None and (relation is None or base.relation not in _IMPLIES[relation]):
        return False
    return True


def uncovered_piece(clause: ActorClause, base: Iterable[ActorClause]) -> ActorClause | None:
    """A kind of person *clause* admits that no *base* clause does, or None when it is narrower."""
    base = tuple(base)
    if clause in base:
        return None
    for role, relation in _pieces(clause):
        if not any(_within(clause, role, relation, b) for b in base):
            return replace(clause, roles=(role,), relation=relation)
    return None


def _missing(piece: ActorClause, base: ActorClause) -> list[str]:
    """What *piece* would need to fit *base*, as YAML a practice lead can add."""
    needs = []
    if base.roles and not set(piece.roles) <= set(base.roles):
        needs.append(f"roles from: {', '.join(base.roles)}")
    if base.qualified and not piece.qualified:
        needs.append("qualified: true")
    if base.team == "case" and piece.team != "case":
        needs.append("team: case")
    if base.relation is not None and (piece.relation is None or base.relation not in _IMPLIES[piece.relation]):
        needs.append(f"relation: {base.relation}")
    return needs


def _example(piece: ActorClause, needs: list[str]) -> str:
    """The kind of person the clause lets in and the base does not, e.g. 'a registered team manager of another team'."""
    text = piece.describe()
    if "qualified: true" in needs:
        text += " who is not registered"
    if "team: case" in needs:
        text += " of another team"
    if any(n.startswith("relation") for n in needs) and piece.relation is None:
        text += " with no relation to the case"
    return text


def _who_findings(path: Key, clauses: tuple[ActorClause, ...], base: tuple[ActorClause, ...], what: str,
                  rules: str) -> list[Finding]:
    if clauses == base:
        return []
    found = []
    for i, clause in enumerate(clauses):
        piece = uncovered_piece(clause, base)
        if piece is None:
            continue
        options = sorted((_missing(piece, b) for b in base), key=len)
        needs = options[0] if options else []
        fix = (f"narrow it to people {what.split(' for ')[0]} admits, e.g. add {' and '.join(repr(n) for n in needs)}"
               if needs else "remove it")
        found.append((path + (i,),
                      f"'{clause.describe()}' is wider than {what} allows ({clauses_phrase(base)}): it would let "
                      f"{_example(piece, needs)} act{rules}", fix))
    return found


# holder policies --------------------------------------------------------------------------------


def _same(a: Requirement, b: Requirement) -> bool:
    """The same condition, whatever its rules, sentence or origin."""
    return type(a) is type(b) and dump(a, exclude=("rules", "says", "origin")) == \
        dump(b, exclude=("rules", "says", "origin"))


def _covering(policy: HolderPolicy, base: tuple[HolderPolicy, ...]) -> list[HolderPolicy]:
    return [b for b in base if set(b.roles) & set(policy.roles) and set(b.paths) & set(policy.paths)]


def _keep(policy: HolderPolicy, base: tuple[HolderPolicy, ...]) -> HolderPolicy:
    requires = list(policy.requires)
    for covering in _covering(policy, base):
        for kept in covering.requires:
            same = next((i for i, r in enumerate(requires) if _same(r, kept)), None)
            if same is None:
                requires.append(kept)
            elif set(kept.rules) - set(requires[same].rules):
                mine = requires[same]
                requires[same] = replace(mine, rules=tuple(dict.fromkeys(kept.rules + mine.rules)))
    return policy if requires == list(policy.requires) else replace(policy, requires=tuple(requires))


def keep_holder_requirements(base: Definition, local: Definition) -> Definition:
    """*local* with each lead (and worker) policy also requiring what the base policies covering it require.

    A local file that replaces the lead policies, say to add its own conditions for a
    community care worker, can then never drop a national one (WT-3's supervisor, WT-4's
    agreement with partners) by leaving it out; a condition it restates is kept once,
    citing the base's rules as well as its own.
    """
    alloc, kept = local.allocation, base.allocation
    leads = tuple(_keep(p, kept.leads) for p in alloc.leads)
    workers = tuple(_keep(p, kept.workers) for p in alloc.workers) if kept.workers else alloc.workers
    if leads == alloc.leads and workers == alloc.workers:
        return local
    return replace(local, allocation=replace(alloc, leads=leads, workers=workers))


def _holder_findings(key: str, local: tuple[HolderPolicy, ...], base: tuple[HolderPolicy, ...]) -> list[Finding]:
    found = []
    for j, policy in enumerate(local):
        for role in policy.roles:
            for path in policy.paths:
                if not any(role in b.roles and path in b.paths for b in base):
                    where = "a child protection" if path == "cp" else "a Child in Need"
                    rule = (" (WT-5: only a registered social worker leads there, "
                            "lead_is_registered_social_worker)") if path == "cp" else " (WT-2)"
                    slot = "lead" if key == "leads" else "be the worker on"
                    found.append((("allocation", key, j, "paths" if path == "cp" else "roles"),
                                  f"the base does not let a {roles_phrase([role])} {slot} {where} case, so a "
                                  f"local protocol cannot either{rule}",
                                  f"remove {role!r} from this policy's roles"
                                  + (" or 'cp' from its paths" if path == "cp" else "")))
    return found


# the whole comparison ---------------------------------------------------------------------------


def _states(base: Definition, local: Definition) -> list[Finding]:
    found: list[Finding] = []
    for name, was in base.states.items():
        now = local.states[name]
        if now.open != was.open:
            found.append((("states", name, "open"), f"{name!r} is {'an open' if was.open else 'a closed'} state of "
                          f"{base.name!r}; a local protocol cannot change that",
                          f"remove 'open' from states.{name}"))
        if now.path != was.path:
            found.append((("states", name, "path"), f"{name!r} is on the {was.path} path of {base.name!r}; a local "
                          f"protocol cannot move it to another" + (" (WT-5)" if "cp" in (was.path, now.path) else ""),
                          f"remove 'path' from states.{name}, or add a state of your own"))
        if now.initial != was.initial:
            found.append((("states", name, "initial"), f"every case opens in {base.initial!r}, as in {base.name!r}; "
                          f"a local protocol cannot change where cases start",
                          f"remove 'initial' from states.{name}"))
    for name, state in local.states.items():
        if name not in base.states and state.initial:
            found.append((("states", name, "initial"),
                          f"a case cannot open in {name!r}: every case opens in {base.initial!r}, as in {base.name!r}"
                          + (" and never on the child protection path (WT-5)" if state.path == "cp" else ""),
                          f"remove 'initial' from states.{name} and add a move into it from {base.initial!r}"))
    return found


def _event_findings(name: str, ev: EventDef, was: EventDef, base: Definition) -> list[Finding]:
    path = ("events", name)
    cp = base.states[was.to].path == "cp" or any(base.states[s].path == "cp" for s in was.sources)
    found: list[Finding] = []
    if ev.to != was.to:
        found.append((path + ("to",), f"{name!r} moves a case to {was.to!r} in {base.name!r}; a local protocol "
                      f"cannot send it elsewhere", f"remove 'to' from events.{name}, or add an event of your own"))
    for i, source in enumerate(ev.sources):
        if source in base.states and source not in was.sources:
            found.append((path + ("from", i), f"{name!r} cannot be made from {source!r} in {base.name!r}; a local "
                          f"protocol can only add states of its own",
                          f"remove {source!r} from events.{name}.from"))
    found += _who_findings(path + ("who",), ev.who, was.who, f"{base.name!r} for {name!r}",
                           " (WT-5)" if cp else "")
    found += [(path + ("requires",), f"the base requirement '{r.text()}' is missing", "keep the base's requirements")
              for r in was.requires if not any(_same(r, mine) and set(r.rules) <= set(mine.rules)
                                               for mine in ev.requires)]
    return found


def _local_event_findings(name: str, ev: EventDef, base: Definition, local: Definition) -> list[Finding]:
    """A move of the local protocol's own never ends child protection, closes a case into a state of its own,
    or takes a case between base states by a way the base does not have (unless it steps back)."""
    target = local.states.get(ev.to)
    if target is None:
        return []  # an unknown state: the whole-protocol checks report it
    leaves = [s for s in ev.sources if s in local.states and local.states[s].path == "cp"]
    if leaves and target.path != "cp":
        return [(("events", name, "to"),
                 f"{name!r} takes a case out of child protection ({', '.join(leaves)}) into {ev.to!r}; only the "
                 f"base's own moves end child protection (WT-5)",
                 "make it start from states of your own, or add requirements to the base's moves instead")]
    if ev.to not in base.states:
        if not target.open:
            return [(("events", name, "to"), f"{name!r} closes a case into {ev.to!r}, a state of this protocol's own; "
                     "only the base's moves close a case, with their conditions (WT-7)",
                     "close the case with the base's moves (e.g. 'close'), adding requirements to them")]
        return []
    found: list[Finding] = []
    for i, source in enumerate(ev.sources):
        if source in base.states and source != ev.to and not _has_move(base, source, ev.to) \
                and not _steps_back(base, source, ev.to):
            found.append((("events", name, "from", i), _no_way(base, source, ev.to),
                          "start it from a state of your own, or add requirements to the base's own moves"))
    return found


def _has_move(d: Definition, source: str, target: str) -> bool:
    return any(source in ev.sources and ev.to == target for ev in d.events.values())


def _steps_back(d: Definition, source: str, target: str) -> bool:
    """Whether a case could come back from *target* to *source* through *d*'s open Child in Need states: a move
    from *source* to *target* is then a step back (revising the assessment), whose way forward stays guarded."""
    cin = {n for n, s in d.states.items() if s.open and s.path == "cin"}
    if source not in cin or target not in cin:
        return False
    seen, todo = {target}, [target]
    while todo:
        for _, ev in d.events_from(todo.pop()):
            if ev.to in cin and ev.to not in seen:
                seen.add(ev.to)
                todo.append(ev.to)
    return source in seen


def _no_way(base: Definition, source: str, target: str, via: list[str] | None = None) -> str:
    through = f" through {', '.join(repr(v) for v in via)}" if via else ""
    rules = " (WT-5, WT-6)" if "cp" in (base.states[source].path, base.states[target].path) else " (WT-4, WT-7)"
    return (f"this takes a case from {source!r} to {target!r}{through}, and {base.name!r} has no move from "
            f"{source!r} to {target!r}: a local protocol may add steps back, never a way forward that skips the "
            f"base's moves and their conditions{rules}")


def _detours(base: Definition, local: Definition) -> list[Finding]:
    """A path through the local protocol's own states must come back where it left the base's, or step back."""
    found: dict[Key, Finding] = {}
    own = {n for n in local.states if n not in base.states}
    for start in base.states:
        reached: dict[str, list[str]] = {}
        todo = [(start, [])]  # type: list[tuple[str, list[str]]]
        while todo:
            state, via = todo.pop()
            for name, ev in local.events_from(state):
                if ev.to in own:
                    if ev.to not in reached:
                        reached[ev.to] = [*via, ev.to]
                        todo.append((ev.to, reached[ev.to]))
                elif via and ev.to in base.states and ev.to != start and not _steps_back(base, start, ev.to):
                    found.setdefault(("events", name), (("events", name), _no_way(base, start, ev.to, via),
                                                        "bring the case back to the state it left, or into a "
                                                        "state the base reaches from there by its own moves"))
    return list(found.values())


def _fact_findings(name: str, local: Definition, base: Definition) -> list[Finding]:
    fact, was = local.facts[name], base.facts[name]
    path = ("facts", name)
    rules = f" ({', '.join(was.rules)})" if was.rules else ""
    found = _who_findings(path + ("who",), fact.who, was.who, f"{base.name!r} for recording {name!r}", rules)
    for flag in ("note_required", "with_qualified"):
        if getattr(was, flag) and not getattr(fact, flag):
            found.append((path + (flag,), f"{base.name!r} requires {flag.replace('_', ' ')} for {name!r}; a local "
                          f"protocol cannot drop it{rules}", f"remove '{flag}: false' from facts.{name}"))
    if was.choices and not (fact.choices and set(fact.choices) <= set(was.choices)):
        found.append((path + ("choices",), f"{name!r} must be one of {', '.join(was.choices)} in {base.name!r}; a "
                      f"local protocol can only shorten that list{rules}",
                      f"keep only choices from: {', '.join(was.choices)}"))
    return found


def _allocation(base: Definition, local: Definition) -> list[Finding]:
    alloc, was = local.allocation, base.allocation
    found = _who_findings(("allocation", "who"), alloc.who, was.who, f"{base.name!r} for allocating", " (WT-4)")
    found += _who_findings(("allocation", "supervisors"), alloc.supervisors, was.supervisors,
                           f"{base.name!r} for supervisors", " (WT-3)")
    found += _holder_findings("leads", alloc.leads, was.leads)
    if was.workers:
        found += _holder_findings("workers", alloc.workers, was.workers)
        found += _who_findings(("allocation", "workers_who"), alloc.workers_who, was.workers_who or was.who,
                               f"{base.name!r} for changing the worker", "")
    found += [(("allocation", "requires"), f"the base requirement '{r.text()}' is missing",
               "keep the base's requirements") for r in was.requires if not any(_same(r, m) for m in alloc.requires)]
    return found


def _deadline_findings(name: str, local: Definition, base: Definition) -> list[Finding]:
    dl, was = local.deadlines[name], base.deadlines[name]
    path = ("deadlines", name)
    rules = f" ({', '.join(was.rules)})" if was.rules else ""
    found: list[Finding] = []

    def keep(key: str, why: str, fix: str) -> None:
        found.append((path + (key,), f"{name!r} {why} in {base.name!r}; a local protocol cannot change that{rules}",
                      fix))

    if dl.start != was.start:
        keep("start", f"runs from {was.start.text()}", f"remove 'start' from deadlines.{name}")
    if not set(was.while_in) <= set(dl.while_in):
        keep("while_in", f"runs while a case is in {', '.join(was.while_in)}",
             f"keep every state of the base in deadlines.{name}.while_in")
    if not set(dl.met_by) <= set(was.met_by):
        keep("met_by", "is met only by " + (", ".join(m.text() for m in was.met_by) or "nothing"),
             f"keep only the base's markers in deadlines.{name}.met_by")
    if (was.held_by and not set(was.held_by) <= set(dl.held_by)) or (not was.held_by and dl.held_by):
        keep("held_by", "applies " + (f"while a {roles_phrase(was.held_by)} holds the case" if was.held_by
                                      else "whoever holds the case"),
             f"remove 'held_by' from deadlines.{name}")
    for key in ("within", "repeat"):
        mine, theirs = getattr(dl, key), getattr(was, key)
        if theirs is None:
            continue
        if mine is None:
            keep(key, f"repeats every {theirs.text()}", f"keep 'repeat' in deadlines.{name}")
        elif mine.unit == theirs.unit and mine.amount > theirs.amount:
            found.append((path + (key, mine.unit),
                          f"{name!r} is {theirs.text()} in {base.name!r}; a local protocol may shorten it, never "
                          f"lengthen it to {mine.text()}{rules}",
                          f"give at most {theirs.amount} {theirs.unit.replace('_', ' ')}"))
    return found


def floor_findings(base: Definition, local: Definition) -> list[Finding]:
    """Everything *local* changes of *base* that could let someone do what the base refuses."""
    found = _states(base, local)
    for name, ev in local.events.items():
        found += (_event_findings(name, ev, base.events[name], base) if name in base.events
                  else _local_event_findings(name, ev, base, local))
    found += _detours(base, local)
    for name in base.facts:
        found += _fact_findings(name, local, base)
    found += _allocation(base, local)
    for name in base.deadlines:
        found += _deadline_findings(name, local, base)
    for kind in STAFF_CHANGES:
        change, was = local.staff.change(kind), base.staff.change(kind)
        found += _who_findings(("staff", kind, "who"), change.who, was.who, f"{base.name!r} for staff change {kind!r}",
                               f" ({', '.join(was.rules)})" if was.rules else "")
    if local.backdate_days > base.backdate_days:
        found.append((("backdate_days",), f"{base.name!r} allows back-dating by at most {base.backdate_days} days; "
                      f"a local protocol may shorten that, never lengthen it to {local.backdate_days} (WT-7)",
                      f"give at most {base.backdate_days}"))
    return found
