"""Pages of the protocol diagram: the Child in Need stages on one, child protection on the other.

The whole detailed diagram, with its key, is too big for a projected slide (fitted to
1920×1080 its key text is about 10 px). A page draws the stages of one path in full, with
the moves that leave or enter them and a key of only what those moves and stages use.
The other page's stages are one dashed box that names the page to turn to.

A move between the paths (an escalation, a step back to Child in Need) is drawn in full, with
its key references, on the child protection page: an arrow to or from the box says which of its
stages the move reaches ("to Strategy discussion") or leaves ("from Referral or Single
assessment"). The Child in Need page names those moves briefly, by title, on one arrow each
way between its stages and the box; drawn in full there too, they made the page so wide that its
text was 11.5 px on a slide, against 15 px without them. A case drawn on a page (``--case``) has
them in full on both, since each exit carries its own mark.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..deadlines import DeadlineDef
from ..definition import Definition
from ...errors import DiagramError

__all__ = ["PAGES", "ELSEWHERE", "Page", "page_of"]

#: page name → what it shows, as its title says it
PAGES = {"cin": "Child in Need", "cp": "child protection"}
#: the node that stands for the other page's stages
ELSEWHERE = "__elsewhere"


@dataclass(frozen=True)
class Page:
    """What one page draws: its own stages (in full), whether it reaches the other page, its moves."""

    name: str | None  # None: the whole diagram
    own: frozenset[str]
    moves: frozenset[tuple[str, str]]  # (event, source), drawn in full
    #: the other page, when a move on this page reaches it ('cp' on the Child in Need page)
    other: str | None = None
    #: moves between the paths this page names only by title (drawn in full on the other page)
    brief: frozenset[tuple[str, str]] = frozenset()

    def drawn(self, state: str) -> str:
        """The node that draws *state* on this page: itself, or the box of the other page."""
        return state if state in self.own else ELSEWHERE

    def deadlines(self, d: Definition) -> dict[str, DeadlineDef]:
        """The deadlines that run in the page's own stages (the key's timescales)."""
        return {n: dl for n, dl in d.deadlines.items() if any(s in self.own for s in dl.while_in)}

    def title(self) -> str:
        """': Child in Need stages' (the end of the diagram's title), or nothing for the whole diagram."""
        return f": {PAGES[self.name]} stages" if self.name else ""


def _on(page: str, path: str) -> bool:
    """Closed and stepped-down states (no path) belong with Child in Need, where cases end."""
    return (path == "cp") == (page == "cp")


def page_of(d: Definition, name: str | None = None, full: bool = False) -> Page:
    """Page *name* of *d*'s diagram ('cin' or 'cp'), or with None the whole diagram; with *full*, the Child in
    Need page draws the moves between the paths in full too (a case on the page)."""
    every = frozenset((event, source) for event, ev in d.events.items() for source in ev.sources)
    if name is None:
        return Page(None, frozenset(d.states), every)
    if name not in PAGES:
        raise DiagramError(f"Unknown diagram page {name!r}; use one of: {', '.join(PAGES)}.")
    own = frozenset(s for s, spec in d.states.items() if _on(name, spec.path))
    moves = frozenset((event, source) for event, source in every if source in own or d.events[event].to in own)
    reaches = any(s not in own for event, source in moves for s in (source, d.events[event].to))
    other = next(p for p in PAGES if p != name) if reaches else None
    if name == "cp" or full or not any(d.states[s].open and d.states[s].path == "cin" for s in own):
        return Page(name, own, moves, other)  # (the brief arrows leave from the Child in Need stages' box)
    brief = frozenset((event, source) for event, source in moves if not {source, d.events[event].to} <= own)
    return Page(name, own, moves - brief, other, brief)
