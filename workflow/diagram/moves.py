"""The moves of a protocol diagram: each (event, from-stage) as the lines its arrow or review row shows.

A move is named by its title ("Decide no further action"), never its identifier; the
identifier travels with it as the SVG element's id (``move.<event>.<from>``) and tooltip,
so a trainer reads words and a tool can still find ``decide_no_further_action``. A move
the local protocol added or tightened is green with a star; the compact view says under
its title what the local protocol did ("Torbay adds a condition (TOR-6)"), the detailed
view refers to the key for who and what.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..definition import Definition, EventDef
from .changes import Change, move_change
from .key import Key
from .overlay import CaseOverlay, exit_mark
from .pages import ELSEWHERE, PAGES, Page
from .style import CIN, CP, LOCAL, MUTED, entry, escape, rows, rules_text, wrap

__all__ = ["Move", "moves_of", "brief_moves", "move_id", "review_rows"]

_TITLE_WIDTH = 26  # characters per line of a move's title
_NOTE_WIDTH = 34  # characters per line of a case's note on an exit, or of what a local protocol did
_BRIEF_WIDTH = 40  # characters per line of the moves between the paths that a page names briefly


@dataclass(frozen=True)
class Move:
    """One move as drawn: where from and to, the label's lines (HTML), the arrow's attributes."""

    event: str
    source: str
    target: str
    lines: list[str]
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def review(self) -> bool:
        """A move that keeps the case in its stage: a row of the stage's box, not an arrow."""
        return self.source == self.target


def move_id(event: str, source: str) -> str:
    """'move.step_down.cin_plan': the SVG id of a move, by which tools find it."""
    return f"move.{event}.{source}"


def _title_lines(ev: EventDef, name: str, review: bool, change: Change | None, made: bool) -> list[str]:
    """The title with the event's own rule IDs, bold and wrapped; starred and green when local."""
    first, *rest = wrap(f"{ev.title or name}{rules_text(ev.rules)}", _TITLE_WIDTH)
    indent = "\u2003" if review else ""
    first = ("\u2713 " if made and review else "") + ("\u21bb " if review else "") + f"<B>{first}</B>"
    return entry(first, [f"{indent}<B>{line}</B>" for line in rest], change is not None)


def _lines(d: Definition, name: str, source: str, key: Key | None, overlay: CaseOverlay | None,
           change: Change | None, made: bool, where: str) -> tuple[list[str], dict[str, str]]:
    """A move's lines: the case's note on it, its title, the other page's stages it reaches, then what the
    local protocol did (compact) or its key references (detailed); and the style the case's note asks for."""
    ev = d.events[name]
    review = source == ev.to
    note, colour, style = exit_mark(overlay, name, source)
    lines = [f'<FONT COLOR="{colour}">{line}</FONT>' for line in wrap(note, _NOTE_WIDTH)] if note else []
    lines += _title_lines(ev, name, review, change, made)
    indent = "\u2003" if review else ""
    lines += [f'<FONT COLOR="{MUTED}">{line}</FONT>' for line in wrap(where, _NOTE_WIDTH)] if where else []
    if key is not None:
        lines.append(indent + key.line(ev))
    elif change is not None:
        lines += [f'{indent}<FONT COLOR="{LOCAL}">{line}</FONT>'
                  for line in wrap(change.what + rules_text(change.rules), _NOTE_WIDTH)]
    return lines, style


def _where(d: Definition, page: Page, name: str, sources: list[str]) -> str:
    """'to Strategy discussion', 'from Referral or Single assessment': the other page's stages a move reaches."""
    def title(state: str) -> str:
        return d.states[state].title or state

    if page.drawn(sources[0]) == ELSEWHERE:
        return "from " + " or ".join(title(s) for s in sources)
    if page.drawn(d.events[name].to) == ELSEWHERE:
        return "to " + title(d.events[name].to)
    return ""


def moves_of(d: Definition, page: Page, key: Key | None, overlay: CaseOverlay | None) -> list[Move]:
    """Every move on *page*, in definition order (which numbers the key in the order a reader meets it); one
    move from several stages of the other page is one arrow from its box."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for name, ev in d.events.items():
        for source in ev.sources:
            if (name, source) in page.moves:
                groups.setdefault((name, page.drawn(source), page.drawn(ev.to)), []).append(source)
    found = []
    for (name, source, target), sources in groups.items():
        ev, change = d.events[name], move_change(d, name)
        made = overlay is not None and any((name, s) in overlay.taken for s in sources)
        lines, style = _lines(d, name, sources[0], key, overlay, change, made, _where(d, page, name, sources))
        tooltip = f"{name} (from {' or '.join(sources)})"
        attrs = {"color": CP if d.states[ev.to].path == "cp" else CIN, **style,
                 "id": move_id(name, sources[0]), "tooltip": tooltip, "labeltooltip": tooltip}
        if made:
            attrs.update(penwidth="3.5", style="bold")
        found.append(Move(name, source, target, lines, attrs))
    return found


def brief_moves(d: Definition, page: Page, anchor: str, cluster: str) -> list[Move]:
    """The moves between the paths that *page* names only by title: one arrow from the page's own stages to the
    other page's box (its tail on *cluster*, the stages' box, at *anchor*) and one back, each listing its moves
    with the stages they leave from or go to, and where they are drawn in full."""
    out: dict[str, list[str]] = {}
    back: dict[str, list[str]] = {}
    for name, ev in d.events.items():
        for source in ev.sources:
            if (name, source) in page.brief:
                (out if page.drawn(source) == source else back).setdefault(name, []).append(
                    source if page.drawn(source) == source else ev.to)
    found = []
    for way, listed in (("out", out), ("back", back)):
        if not listed:
            continue
        lines = []
        for name, states in listed.items():  # an arrow out says where from; one back enters the stages' box
            first, *rest = [f"<B>{line}</B>" for line in wrap(d.events[name].title or name, _BRIEF_WIDTH)]
            lines += entry(first, rest, move_change(d, name) is not None)
            if way == "out":
                where = "from " + d.stages_phrase(dict.fromkeys(states))
                lines += [f'<FONT COLOR="{MUTED}">{line}</FONT>' for line in wrap(where, _BRIEF_WIDTH)]
        lines.append(f'<FONT COLOR="{MUTED}"><I>who and what: the {PAGES[page.other or "cp"]} page</I></FONT>')
        tooltip = "; ".join(f"{name} ({'from' if way == 'out' else 'to'} {' or '.join(states)})"
                            for name, states in listed.items())
        colour = CP if way == "out" else CIN
        attrs = {"color": colour, "id": f"brief.{way}", "tooltip": tooltip, "labeltooltip": tooltip,
                 ("ltail" if way == "out" else "lhead"): cluster}
        found.append(Move("", anchor, ELSEWHERE, lines, attrs) if way == "out"
                     else Move("", ELSEWHERE, anchor, lines, attrs))
    return found


def review_rows(reviews: list[Move]) -> str:
    """A stage's reviews as table rows (HTML), each carrying its event's identifier as id and tooltip."""
    body = "".join(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" ID="{m.attrs["id"]}" HREF="#{m.attrs["id"]}" '
                   f'TOOLTIP="{escape(m.attrs["tooltip"])}">{rows(m.lines)}</TD></TR>' for m in reviews)
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{body}</TABLE>'
