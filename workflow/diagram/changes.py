"""What a local protocol adds or tightens over its base, read from the loaded definition's origin stamps.

The loader stamps every state, event, deadline, who clause, requirement and holder policy
with the definition that wrote it (``workflow.merging``), and keeps the base's stamp on
whatever a local file merely restates. This module turns those stamps into the marks a
trainer reads on a diagram: a move the local protocol adds, a move whose "who" it sets or
to which it adds conditions, a holder it adds or tightens, a deadline or stage it adds.
What a local protocol removes leaves no stamp, so ``policy diff`` is the place for that.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..definition import Definition, EventDef, HolderPolicy, is_local
from ..roles import roles_phrase

__all__ = ["Change", "move_change", "holder_is_local", "local_changes", "local_name"]

Area = Literal["move", "holder", "deadline", "stage"]
_PATHS = {"cin": "Child in Need", "cp": "child protection"}


@dataclass(frozen=True)
class Change:
    """One thing the local protocol adds or tightens, in words: ``title`` and what the protocol did."""

    area: Area
    name: str  # the identifier (event, deadline, state) or 'lead1', 'worker0' for a holder
    title: str
    what: str  # e.g. "Torbay adds a condition"
    rules: tuple[str, ...]
    #: the stages it concerns: a move's sources, the stages a deadline runs in
    stages: tuple[str, ...] = ()


def local_name(d: Definition) -> str:
    """'Torbay': the local protocol's name as a sentence starts it."""
    return d.lineage[-1].capitalize() if d.lineage else d.name.capitalize()


def _unique(rules: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(rules))


def _own(d: Definition, rules: tuple[str, ...] | list[str]) -> list[str]:
    """The rule IDs among *rules* that the local protocol itself declares (TOR-6, not WT-6)."""
    return [r for r in rules if r in d.rulebook and is_local(d.rulebook[r].origin, d.lineage[0])]


def move_change(d: Definition, name: str) -> Change | None:
    """How the local protocol changed event *name*: added it, set who may make it, or added conditions."""
    ev: EventDef = d.events[name]
    base, who = d.lineage[0], local_name(d)
    title = ev.title or name
    if is_local(ev.origin, base):
        rules = _unique([*ev.rules, *(r for c in ev.who for r in c.rules)])
        return Change("move", name, title, f"added by {who}", rules, ev.sources)
    clauses = [c for c in ev.who if is_local(c.origin, base)]
    needs = [r for r in ev.requires if is_local(r.origin, base)]
    if not clauses and not needs:
        return None
    parts = ([f"{who} sets who may make it"] if clauses else []) + \
        ([f"{who} adds {'a condition' if len(needs) == 1 else f'{len(needs)} conditions'}"] if needs else [])
    rules = _unique([*_own(d, ev.rules), *(r for c in clauses for r in c.rules),
                     *(r for q in needs for r in q.all_rules())])
    return Change("move", name, title, "; ".join(parts), rules, ev.sources)


def holder_is_local(d: Definition, policy: HolderPolicy) -> bool:
    """Whether the local protocol added or tightened this holder: it cites a rule the local protocol declares,
    or carries a condition the local protocol wrote. A policy restated word for word but for its ``says``
    is the base's, whatever its stamp."""
    base = d.lineage[0]
    if not is_local(policy.origin, base):
        return False
    return bool(_own(d, policy.rules)) or any(is_local(r.origin, base) for r in (*policy.requires, *policy.keeps))


def _holder(d: Definition, slot: str, policy: HolderPolicy) -> str:
    """'a community care worker may lead Child in Need cases'."""
    roles = roles_phrase(policy.roles)
    verb = "may lead" if slot == "lead" else "may work beside the lead on"
    return f"a {roles} {verb} {' or '.join(_PATHS[p] for p in policy.paths)} cases"


def local_changes(d: Definition) -> list[Change]:
    """Everything the local protocol adds or tightens: stages, moves, holders, then deadlines (definition order)."""
    base, who = d.lineage[0], local_name(d)
    if len(d.lineage) < 2:
        return []
    found = [Change("stage", name, s.title or name, f"added by {who}", s.rules, (name,))
             for name, s in d.states.items() if is_local(s.origin, base)]
    found += [c for c in (move_change(d, name) for name in d.events) if c is not None]
    for slot, policies in (("lead", d.allocation.leads), ("worker", d.allocation.workers)):
        for i, policy in enumerate(policies):
            if holder_is_local(d, policy):
                rules = _unique(_own(d, [*policy.rules, *(r for q in (*policy.requires, *policy.keeps)
                                                          for r in q.all_rules())]))
                found.append(Change("holder", f"{slot}{i}", _holder(d, slot, policy), f"under {who}'s conditions",
                                    rules))
    found += [Change("deadline", name, dl.title, f"added by {who}", dl.rules, dl.while_in)
              for name, dl in d.deadlines.items() if is_local(dl.origin, base)]
    return found
