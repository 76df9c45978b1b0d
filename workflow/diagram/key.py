"""The key under a protocol diagram, which keeps its edge labels short enough for a slide.

Who may make a move and what must hold first are long sentences that repeat from edge
to edge. The detailed diagram writes each one once in the key (who: A, B, …; what must
hold: 1, 2, … with rule IDs), and each edge names its event and refers to the key. The
timescales (deadlines and cadences) are key rows T1, T2, … that each stage's box names
while they run. The key also says what the lines, boxes and colours mean; the compact
diagram keeps only that.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..deadlines import DeadlineDef
from ..definition import Definition, EventDef
from .changes import Change, local_name
from .style import (BLANK, CIN, CP, OPEN, REFUSED, SIZE, entry, escape, is_local, local_line, marked,
                            rules_text, wrap)

__all__ = ["Key", "legend", "holders", "table"]

_WIDTH = 48  # characters per line of a key entry
_HEAD = f'<FONT POINT-SIZE="{SIZE["text"] + 1}"><B>'  # how a section heading starts


@dataclass(frozen=True)
class _Entry:
    ref: str
    text: str
    local: bool


class Key:
    """Letters for each distinct 'who' and numbers for each requirement of one diagram, in order of first use."""

    def __init__(self, base: str, deadlines: Mapping[str, DeadlineDef] | None = None,
                 definition: Definition | None = None):
        self._base = base
        #: the definition drawn: conditions name its facts, moves and states by their titles
        self._definition = definition
        self._who: dict[tuple[str, bool], str] = {}
        self._needs: dict[tuple[str, bool], str] = {}
        #: T1, T2, … for the definition's deadlines, in definition order, with the states they run in
        self._timescales = [(f"T{i}", dl.text() + rules_text(dl.rules), is_local(dl.origin, base), dl.while_in)
                            for i, dl in enumerate((deadlines or {}).values(), 1)]

    def timescales(self, state: str) -> str:
        """'timescales T1, ★T6' (HTML) for the deadlines that run while a case is in *state*, or ''."""
        refs = [marked(ref, local) for ref, _text, local, states in self._timescales if state in states]
        return "timescales " + ", ".join(refs) if refs else ""

    def refs(self, ev: EventDef) -> tuple[str, list[str]]:
        """The references of one move: who (``A``) and what must hold (``1``, ``3``), local ones starred."""
        who_text = ev.who_text() + rules_text(r for c in ev.who for r in c.rules)
        who_local = any(is_local(c.origin, self._base) for c in ev.who)
        who = self._who.setdefault((who_text, who_local), chr(ord("A") + len(self._who)))
        needs = []
        for req in ev.requires:
            text = (req.text(self._definition) + rules_text(req.all_rules()), is_local(req.origin, self._base))
            needs.append(self._needs.setdefault(text, str(len(self._needs) + 1)))
        needs_local = {ref: local for (_t, local), ref in self._needs.items()}
        return marked(who, who_local), [marked(n, needs_local[n]) for n in sorted(set(needs), key=int)]

    def line(self, ev: EventDef) -> str:
        """'who A · needs 1, 3, ★8' (HTML) for a move."""
        who, needs = self.refs(ev)
        return f"who {who}" + (" \u00b7 needs " + ", ".join(needs) if needs else "")

    def entries(self) -> tuple[list[_Entry], list[_Entry]]:
        """The who entries and the requirement entries, in reference order."""
        return ([_Entry(ref, text, local) for (text, local), ref in self._who.items()],
                [_Entry(ref, text, local) for (text, local), ref in self._needs.items()])

    def items(self) -> list[list[str]]:
        """The key's items as lines of HTML, each section's heading on its first item."""
        who, needs = self.entries()
        items = [_entry(e) for e in who]
        items[0] = [_heading("Who may make the move")] + items[0]
        if needs:
            first, *rest = [_entry(e) for e in needs]
            items += [[_heading("What must hold first (rule IDs)")] + first] + rest
        if self._timescales:
            first, *rest = [_entry(_Entry(ref, text, local)) for ref, text, local, _states in self._timescales]
            items += [[_heading("Timescales, while the case is in a stage that names them")] + first] + rest
        return items


def legend(d: Definition, case_id: str | None = None, actor: str | None = None) -> list[list[str]]:
    """What the lines, boxes and colours mean, as key items; with a case, how it is marked."""
    lines = [f'<FONT COLOR="{CIN}">\u2501\u2501\u25b6</FONT> a move within Child in Need, or out of it',
             f'<FONT COLOR="{CP}">\u2501\u2501\u25b6</FONT> a move into child protection',
             "\u21bb a review: the case stays in the stage",
             "\u25cf\u2501\u25b6 where every case starts (thick border)",
             "double border: the case is closed"]
    lines += local_line(d.lineage)
    items = [[_heading("Lines and boxes"), lines[0]]] + [[line] for line in lines[1:]]
    if case_id is not None:
        case = ["yellow, thick border: where it stands now", "thick line: a move it made",
                "\u2713 a review it held"]
        if actor:
            case += [f'<FONT COLOR="{OPEN}">\u2501\u2501\u25b6 open to {escape(actor)} now</FONT>',
                     f'<FONT COLOR="{REFUSED}">\u2504\u2504\u25b6 refused for {escape(actor)}, '
                     "with the first reason</FONT>"]
        items += [[_heading(f"Case {case_id}"), case[0]]] + [[line] for line in case[1:]]
    return items


def holders(d: Definition, changes: list[Change]) -> list[list[str]]:
    """The compact view's note of who may hold a case as the local protocol sets it (the drawing shows
    stages and moves, not holders), each holder it adds or tightens starred, as key items."""
    found = [c for c in changes if c.area == "holder"]
    if not found:
        return []
    items = [entry(f"\u2022 {first}", [f"\u2003{line}" for line in rest], True)
             for c in found for first, *rest in [wrap(f"{c.title}, {c.what}{rules_text(c.rules)}", _WIDTH)]]
    items[0] = [_heading(f"Who may hold a case: {local_name(d)}")] + items[0]
    items[-1] = items[-1] + ["\u2003(every condition: the allocation diagram)"]
    return items


def table(items: list[list[str]], columns: int) -> str:
    """Items (each a few lines of HTML, never split) flowed into *columns* columns of even height.

    Even columns keep the key about as wide as the drawing and as short as it can be, so
    the whole picture stays close to a slide's shape. Every line is a row of one grid, so
    lines in neighbouring columns share a baseline.
    """
    total = sum(len(item) for item in items)
    target = -(-total // columns)
    cols: list[list[str]] = [[]]
    for number, item in enumerate(items):
        heading = item[0].startswith(_HEAD)
        following = len(items[number + 1]) if heading and number + 1 < len(items) else 0
        if cols[-1] and len(cols[-1]) + len(item) + following > target and len(cols) < columns:
            cols.append([])  # a heading never ends a column: it moves on with the item after it
        if cols[-1] and item[0].startswith(_HEAD):  # a new section mid-column: a blank line first
            cols[-1].append(BLANK)
        cols[-1] += item
    height = max(len(col) for col in cols)
    gap = '<TD WIDTH="16"></TD>'
    grid = "".join("<TR>" + gap.join(f'<TD ALIGN="LEFT" BALIGN="LEFT">{col[i] if i < len(col) else ""}</TD>'
                                     for col in cols) + "</TR>" for i in range(height))
    return (f'<<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="0" CELLPADDING="6"><TR><TD>'
            f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{grid}</TABLE></TD></TR></TABLE>>')


def _heading(text: str) -> str:
    return f"{_HEAD}{escape(text)}</B></FONT>"


def _entry(e: _Entry) -> list[str]:
    """'B  first line', the following lines indented under the text."""
    first, *rest = wrap(e.text, _WIDTH)
    return entry(f"<B>{e.ref}</B>\u2002{first}", [f"\u2003\u2002{line}" for line in rest], e.local)
