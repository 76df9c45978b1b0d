"""A staged hand-over: the recorded steps a holder's conditions put in order, read from the definition.

Torbay's community care worker takes a case only after a team manager identifies the child
(TOR-1), *then* the service manager endorses it (TOR-2), and only then the social worker
tells the family, agrees the hand-over and the case summary is updated (TOR-3 to TOR-5).
The definition says that order in two places: a holder's ``fact_recorded`` condition lists
what the fact must come ``after``, and a fact's own ``requires`` names the facts recorded
before it may be. This module ranks the facts a holder needs by those links, so that the
allocation diagram can draw them as numbered steps in order; steps of one rank may come in
any order. A recorded fact that nothing orders stays an ordinary condition, and a holder
whose recorded facts nothing orders has no staged hand-over.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..definition import Definition, HolderPolicy, is_local
from ..requirements import FactRecorded

if TYPE_CHECKING:  # pragma: no cover
    from ..schema import RequirementItem

__all__ = ["Step", "staged_handover"]

#: who a recorded fact must be by, in words (the relations of ``fact_recorded``'s ``by``)
_BY = {"lead": "the lead practitioner", "supervisor": "the supervisor", "worker": "the worker",
       "allocated": "someone allocated to the case", "previous_lead": "the outgoing lead practitioner"}


@dataclass(frozen=True)
class Step:
    """One recorded step of a hand-over: what is recorded (its title), by whom if the condition says, rules."""

    fact: str
    title: str
    by: str
    rules: tuple[str, ...]
    local: bool


def _before(d: Definition, req: FactRecorded) -> set[str]:
    """The facts that must be recorded before *req*'s fact: its ``after`` anchors and the fact's own requires."""
    found = {a.fact for a in req.after if a.fact is not None}
    spec = d.facts.get(req.fact)
    if spec is not None:
        found |= {r.fact for r in spec.requires if isinstance(r, FactRecorded)}
    return found


def staged_handover(d: Definition, policy: HolderPolicy) -> tuple[list[RequirementItem], list[list[Step]]]:
    """The holder's other conditions, and its recorded steps in order: a list of ranks, each a list of steps
    that may come in any order. With no order among the recorded facts, every condition is 'other' and
    there are no steps."""
    recorded = {r.fact: r for r in policy.requires if isinstance(r, FactRecorded)}
    linked = {fact: _before(d, req) & set(recorded) - {fact} for fact, req in recorded.items()}
    ordered = {f for f, earlier in linked.items() if earlier} | {f for earlier in linked.values() for f in earlier}
    steps = {fact: req for fact, req in recorded.items() if fact in ordered}
    before = {fact: linked[fact] for fact in steps}
    if not steps:
        return list(policy.requires), []
    rank: dict[str, int] = {}

    def rank_of(fact: str, seen: frozenset[str] = frozenset()) -> int:
        if fact not in rank:  # a cycle could never be met; the loader's checks report it, here it just stops
            rank[fact] = 1 + max((rank_of(f, seen | {fact}) for f in before[fact] if f not in seen), default=0)
        return rank[fact]

    ranks: list[list[Step]] = [[] for _ in range(max(rank_of(f) for f in steps))]
    base = d.lineage[0]
    for fact, req in steps.items():
        spec = d.facts.get(fact)
        by = f"by {_BY[req.by]}" if req.by else ""
        ranks[rank_of(fact) - 1].append(Step(fact, spec.title if spec is not None and spec.title else fact, by,
                                             req.all_rules(), is_local(req.origin, base)))
    others = [r for r in policy.requires if not (isinstance(r, FactRecorded) and r.fact in steps)]
    return others, ranks
