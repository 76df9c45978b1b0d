"""The handbook's rules page and its comparison with the national baseline.

Every rule ID the definition cites gets an entry: its plain-English meaning and the
source's own words (from the definition's rulebook) and a link to each place that
enforces it, so a trainer can go from a rule to the moves it guards and back.
"""
from __future__ import annotations

import re

from ..definition import Definition, is_local
from ..policy_diff import diff_policies
from .model import Change, Link, Page, RuleEntry
from .sections import link

__all__ = ["rule_entries", "changes"]


def _places(pages: tuple[Page, ...]) -> dict[str, list[Link]]:
    """Rule ID → links to the sections citing it, in page order."""
    found: dict[str, list[Link]] = {}
    for page in pages:
        for group in page.groups:
            for section in group.sections:
                here = Link(f"{page.title}: {section.title}", f"{page.file}#{section.anchor}")
                for rule in section.cited():
                    found.setdefault(rule, []).append(here)
    return found


def _order(rule_ids: list[str]) -> list[str]:
    """Rule families in order of first mention (the baseline's first), then by number."""
    families = list(dict.fromkeys(rule.rsplit("-", 1)[0] for rule in rule_ids))

    def key(rule: str) -> tuple[int, int]:
        family, number = rule.rsplit("-", 1)
        return families.index(family), int(re.sub(r"\D", "", number) or 0)

    return sorted(rule_ids, key=key)


def rule_entries(d: Definition, pages: tuple[Page, ...]) -> tuple[RuleEntry, ...]:
    """One entry per rule ID cited by *d* or declared in its rulebook."""
    places = _places(pages)
    entries = []
    for rule in _order([*places, *(r for r in d.rulebook if r not in places)]):
        entry = d.rulebook[rule]  # every cited rule is declared: the loader refuses a definition otherwise
        entries.append(RuleEntry(rule, entry.says, entry.quote, entry.source, is_local(entry.origin, d.lineage[0]),
                                 tuple(places.get(rule, ()))))
    return tuple(entries)


#: areas of a difference that have a section of their own, and the definition's mapping of them
_SECTIONED = {"event": "events", "fact": "facts", "deadline": "deadlines", "state": "states"}


def changes(baseline: Definition, d: Definition) -> tuple[Change, ...]:
    """What *d* adds to or changes in *baseline*, area by area (as `casework policy diff` shows it)."""
    found = []
    for diff in diff_policies(baseline, d):
        target: Link | None = None
        if diff.area == "allocation":
            target = Link("Allocation", "allocation.html")
        elif diff.area in _SECTIONED and diff.name in getattr(d, _SECTIONED[diff.area]):
            target = link(diff.area, diff.name)
        found.append(Change(diff.area, diff.name, diff.only_in_a, diff.only_in_b, target))
    return tuple(found)
