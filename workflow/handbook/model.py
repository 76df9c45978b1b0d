"""What a handbook says, as plain data: the pages' sections, the rules and the comparison.

Templates only lay this out; every sentence a trainer reads is decided here or in the
definition, so the words can be tested without a browser.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Link", "Clause", "Section", "Group", "Page", "RuleEntry", "Change", "Permission", "Holding", "RolePage",
           "Handbook"]


@dataclass(frozen=True)
class Link:
    """A relative link inside the handbook, e.g. ``events.html#event-close``."""

    text: str
    href: str


@dataclass(frozen=True)
class Clause:
    """One condition in plain English (who may act, or what must hold first), with its rule IDs."""

    text: str
    rules: tuple[str, ...] = ()
    #: added or tightened by the local protocol over the national baseline
    local: bool = False
    #: how the engine checks it, when ``text`` is the protocol's own wording
    detail: str = ""
    #: the facts, deadlines and states it refers to
    see: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Section:
    """One state, event, fact, allocation policy or deadline: what a trainer reads about it."""

    anchor: str
    name: str
    title: str
    description: str = ""
    local: bool = False
    #: short statements of fact: 'Child protection (registered social workers only)'
    notes: tuple[str, ...] = ()
    who_label: str = "Who may do it"
    who: tuple[Clause, ...] = ()
    requires: tuple[Clause, ...] = ()
    #: labelled lists of links: ('Leaves by', (Link, ...))
    links: tuple[tuple[str, tuple[Link, ...]], ...] = ()
    #: the section's own rule IDs (its conditions carry theirs)
    rules: tuple[str, ...] = ()

    @property
    def tightened(self) -> bool:
        """An item of the baseline to which the local protocol added a condition."""
        return not self.local and any(c.local for c in (*self.who, *self.requires))

    def cited(self) -> tuple[str, ...]:
        """Every rule ID the section cites, in order of first mention."""
        found = dict.fromkeys(self.rules)
        for clause in (*self.who, *self.requires):
            found.update(dict.fromkeys(clause.rules))
        return tuple(found)


@dataclass(frozen=True)
class Group:
    """Sections under one heading of a page."""

    heading: str
    sections: tuple[Section, ...]
    intro: str = ""


@dataclass(frozen=True)
class Page:
    """One HTML page of sections (states, events, facts, allocation, deadlines)."""

    file: str
    title: str
    intro: str
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class RuleEntry:
    """A rule ID: what it means, the source's words, and every place the definition enforces it."""

    id: str
    says: str = ""
    quote: str = ""
    source: str = ""
    local: bool = False
    enforced_at: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Change:
    """One place where the protocol differs from the national baseline (from ``policy diff``)."""

    area: str
    name: str
    only_in_baseline: tuple[str, ...]
    only_in_protocol: tuple[str, ...]
    link: Link | None = None


@dataclass(frozen=True)
class Permission:
    """One thing a person of a role may or may not do (a move, recording a fact, allocating), as the engine
    judges it: from where they stand on the case, in which states, and what applies to them or stops them."""

    what: Link
    #: 'move', 'record' or 'allocate'
    kind: str
    allowed: bool
    #: 'as the case's lead practitioner' (empty: without holding the case)
    standing: tuple[str, ...] = ()
    #: the states it may be done in (for a move, the states it leaves)
    states: tuple[Link, ...] = ()
    #: allowed: the conditions that apply to them in particular; refused: the reasons
    because: tuple[Clause, ...] = ()
    #: refused: who may do it instead
    instead: str = ""


@dataclass(frozen=True)
class Holding:
    """How a person of a role comes to hold a case in one slot (lead practitioner, worker, supervisor)."""

    slot: str
    #: the states a case may be in when it comes to them
    states: tuple[Link, ...]
    #: the policy's own words
    says: str = ""
    requires: tuple[Clause, ...] = ()
    keeps: tuple[Clause, ...] = ()
    link: Link | None = None
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class RolePage:
    """'As a community care worker in Torbay you may …': one role's page, from the engine's verdicts."""

    role: str
    label: str
    file: str
    title: str
    intro: str
    holding: tuple[Holding, ...]
    #: why they never hold a case, when they do not
    not_holding: Clause | None
    who_allocates: str
    may: tuple[Permission, ...]
    may_not: tuple[Permission, ...]
    #: deadlines on the cases they hold: their supervision and visits, and the case's own timescales
    supervision: tuple[Section, ...]
    deadlines: tuple[Section, ...]
    #: the moves into child protection and what the protocol says while an escalation is open
    escalation: tuple[Permission, ...]
    escalation_keeps: tuple[Clause, ...]
    staff_changes: tuple[Link, ...]

    def cited(self) -> tuple[str, ...]:
        """Every rule ID the page cites, in order of first mention."""
        found: dict[str, None] = {}
        if self.not_holding is not None:
            found.update(dict.fromkeys(self.not_holding.rules))
        for h in self.holding:
            found.update(dict.fromkeys((*h.rules, *(r for c in (*h.requires, *h.keeps) for r in c.rules))))
        for p in (*self.may, *self.may_not, *self.escalation):
            found.update(dict.fromkeys(r for c in p.because for r in c.rules))
        for s in (*self.supervision, *self.deadlines):
            found.update(dict.fromkeys(s.cited()))
        found.update(dict.fromkeys(r for c in self.escalation_keeps for r in c.rules))
        return tuple(found)


@dataclass(frozen=True)
class Handbook:
    """Everything one protocol's handbook shows, ready for the templates."""

    name: str
    title: str
    version: str
    source: str
    description: str
    lineage: tuple[str, ...]
    pages: tuple[Page, ...]
    rules: tuple[RuleEntry, ...]
    #: None for the national baseline itself
    changes: tuple[Change, ...] | None
    #: a page per role the protocol gives a part, and the labels of the roles it gives none
    roles: tuple[RolePage, ...] = ()
    roles_without_part: tuple[str, ...] = ()

    @property
    def baseline(self) -> str:
        """The definition every protocol extends (the first of the lineage)."""
        return self.lineage[0]

    @property
    def local(self) -> str | None:
        """The local protocol's name, or None for the baseline."""
        return self.lineage[-1] if len(self.lineage) > 1 else None

    def rule(self, rule_id: str) -> RuleEntry:
        """The entry for *rule_id* (every cited rule has one)."""
        return next(r for r in self.rules if r.id == rule_id)
