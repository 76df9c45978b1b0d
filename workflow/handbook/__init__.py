"""A static HTML handbook of a protocol, for training: `casework handbook P -o DIR`.

The diagrams, then one section per state, event, fact, allocation policy and deadline
in plain English (who may act, what must happen first, deadlines, rule IDs and the
source's own words), a page of rules, and a comparison with the national baseline.
It is built from the same loaded definition the engine runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..definition import Definition
from ..loader import Policies
from .model import Handbook
from .writer import write_library, write_pages
from .rules import changes, rule_entries
from .role_pages import role_pages
from .sections import section_pages

__all__ = ["Handbook", "build_handbook", "write_handbook", "write_handbooks"]


def build_handbook(d: Definition, baseline: Definition | None = None) -> Handbook:
    """What *d*'s handbook says; *baseline* (the national definition) for a local protocol's comparison."""
    built = section_pages(d)
    roles, without = role_pages(d)
    return Handbook(d.name, d.title or d.name, d.version, d.source, d.description, d.lineage, built,
                    rule_entries(d, built),
                    changes(baseline, d) if baseline is not None and len(d.lineage) > 1 else None, roles, without)


def _handbook_of(policies: Policies, d: Definition) -> Handbook:
    """*d*'s handbook, compared with the definition it extends from (the first of its lineage)."""
    return build_handbook(d, policies.get(d.lineage[0]) if len(d.lineage) > 1 else None)


def write_handbook(policies: Policies, name: str, directory: str | Path) -> list[Path]:
    """Write the handbook of protocol *name* into *directory*; returns the files written."""
    d = policies.get(name)
    return write_pages(d, _handbook_of(policies, d), Path(directory))


def write_handbooks(policies: Policies, directory: str | Path,
                    done: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Every protocol's handbook into ``<directory>/<name>/``, and an index of them; *done* is told each
    protocol's name as its handbook is written, with how many are done and how many there are."""
    out = Path(directory)
    written: list[Path] = []
    handbooks = []
    names = policies.names()
    for i, name in enumerate(names, 1):
        d = policies.get(name)  # loaded (and proven) here, so that the time shows against its protocol
        hb = _handbook_of(policies, d)
        written += write_pages(d, hb, out / d.name)
        handbooks.append(hb)
        if done is not None:
            done(name, i, len(names))
    written.append(write_library(handbooks, out))
    return written
