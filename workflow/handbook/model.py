"""What a handbook says, as plain data: the pages' sections, the rules and the comparison.

Templates only lay this out; every sentence a trainer reads is decided here or in the
definition, so the words can be tested without a browser.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Link", "Clause", "Section", "Group", "Page", "RuleEntry", "Change", "Handbook"]


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
