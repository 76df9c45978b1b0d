"""Diagrams drawn from the same loaded definition the engine runs, rendered by graphviz ``dot``.

The package reads the definition in three steps: what the local protocol changed
(``changes``), a holder's staged hand-over (``handover``) and which stages and moves a page
shows (``pages``) are extracted from it; ``moves`` and ``key`` turn those into labelled
arrows and key rows; ``protocol`` (the case path, optionally one case on it via ``overlay``)
and ``allocation`` (who may hold a case) lay them out as DOT. This module names the views
and formats, checks what a request asks for, and runs ``dot``; the same definition always
gives the same bytes, so committed diagrams can be checked for staleness.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from ..definition import Definition
from .allocation import allocation_source
from .overlay import CaseOverlay, definition_for_case
from .pages import PAGES
from .protocol import diagram_source
from ...errors import DiagramError

__all__ = ["diagram_source", "allocation_source", "render", "render_all", "write_diagrams", "CaseOverlay",
           "FORMATS", "BINARY", "PAGES", "View", "VIEWS", "ALL_VIEWS", "check_request", "definition_for_case"]

FORMATS = ("svg", "png", "pdf", "dot")
#: formats that are bytes, not text: never written to a terminal
BINARY = ("png", "pdf")


@dataclass(frozen=True)
class View:
    """One picture of a protocol, and the suffix of its file name in ``diagrams/``."""

    suffix: str
    compact: bool = False
    allocation: bool = False
    page: str | None = None


#: every view ``diagram --all`` writes: the whole case path, its slide-sized compact view and CIN and CP
#: pages, and the allocation rules
ALL_VIEWS = (View(""), View("-compact", compact=True), View("-cin", page="cin"), View("-cp", page="cp"),
             View("-allocation", allocation=True))
#: the views a handbook shows beside its pages
VIEWS = (ALL_VIEWS[0], ALL_VIEWS[-1])


def check_request(fmt: str, to_terminal: bool, compact: bool = False, allocation: bool = False,
                  page: str | None = None, case: str | None = None, actor: str | None = None) -> None:
    """Refuse (DiagramError, exit 2) what cannot be drawn as asked, before anything is loaded or drawn.

    Binary formats never go to a terminal; the allocation diagram has one view (its conditions are
    the point of it, so there is no compact form) and shows no case; ``--as`` needs ``--case``.
    """
    if fmt in BINARY and to_terminal:
        raise DiagramError(f"A {fmt.upper()} diagram is binary and would garble the terminal: write it to a file "
                           f"with -o FILE.{fmt} (or redirect the output).")
    if allocation and (compact or page or case):
        given = ", ".join(o for o, v in (("--compact", compact), ("--page", page), ("--case", case)) if v)
        raise DiagramError(f"The allocation diagram has one view, already sized for a slide, and shows no case: "
                           f"leave out {given}, or drop --allocation to draw the case path.")
    if actor and not case:
        raise DiagramError("--as shows which exits of a case are open to that person: give --case CASE too.")
    if page is not None and page not in PAGES:
        raise DiagramError(f"Unknown diagram page {page!r}; use one of: {', '.join(PAGES)}.")


def _source(d: Definition, view: View, overlay: CaseOverlay | None = None) -> str:
    return allocation_source(d) if view.allocation else diagram_source(d, view.compact, overlay, view.page)


def _dot(source: str, outputs: Mapping[str, Path] | None, fmt: str = "svg") -> bytes:
    """Run ``dot`` once: into each of *outputs* (format → path, one layout for all), else *fmt* as bytes."""
    args = ["dot"] + ([a for f, p in (outputs or {}).items() for a in (f"-T{f}", f"-o{p}")] or [f"-T{fmt}"])
    try:
        done = subprocess.run(args, input=source.encode(), capture_output=True, check=False)
    except FileNotFoundError:
        raise DiagramError("Graphviz 'dot' is not installed: run scripts/setup "
                           "(or apt-get install graphviz).") from None
    if done.returncode != 0:
        raise DiagramError(f"Graphviz failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def render(d: Definition, fmt: str = "svg", compact: bool = False, overlay: CaseOverlay | None = None,
           allocation: bool = False, page: str | None = None) -> bytes:
    """Rendered bytes in *fmt* (the case path, or one page of it, or with *allocation* the hand-over rules)."""
    if fmt not in FORMATS:
        raise DiagramError(f"Unknown diagram format {fmt!r}; use one of: {', '.join(FORMATS)}.")
    source = _source(d, View("", compact, allocation, page), overlay)
    return source.encode() if fmt == "dot" else _dot(source, None, fmt)


def write_diagrams(definitions: Iterable[Definition], directory: Path | str,
                   formats: Sequence[str] = ("svg", "png"), views: Sequence[View] = VIEWS) -> Iterator[Path]:
    """Write ``<policy><view suffix>.<format>`` for every definition and view into *directory*, yielding each
    path as it is written (one ``dot`` run per view lays it out once for every format)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for d in definitions:
        for view in views:
            paths = {fmt: out / f"{d.name}{view.suffix}.{fmt}" for fmt in formats}
            _dot(_source(d, view), paths)
            yield from paths.values()


def render_all(definitions: Iterable[Definition], directory: Path | str,
               formats: tuple[str, ...] = ("svg", "png"), views: Sequence[View] = VIEWS) -> list[Path]:
    """Write the diagrams of every definition into *directory* (see :func:`write_diagrams`); returns the paths."""
    return list(write_diagrams(definitions, directory, formats, views))
