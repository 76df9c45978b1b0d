"""The look shared by every diagram: colours, type sizes and the HTML-like label pieces.

Sizes are chosen for a projected slide: fitted whole to a 1920×1080 slide, a page of the
detailed diagram (with its key) shows its text at 12–14 px, the whole detailed diagram at
8–9 px, an allocation diagram at 15 px or more. Every line of a label is its own table
row, because graphviz sets ``<BR/>`` lines so tight that an underscore touches the line
below.
"""
from __future__ import annotations

import html
import textwrap
from typing import Iterable

from ..definition import is_local

__all__ = ["FONT", "CIN", "CP", "LOCAL", "CLOSED", "CIN_FILL", "CP_FILL", "OPEN", "REFUSED", "HERE", "MUTED",
           "SIZE", "BLANK", "escape", "wrap", "rules_text", "is_local", "marked", "entry",
           "local_line", "rows"]

FONT = "Helvetica"
CIN, CIN_FILL = "#30508a", "#eef5ff"
CP, CP_FILL = "#b03020", "#fff0ef"
CLOSED = "#e8e8e8"
#: what a local protocol added or tightened: green with a star, as in the handbook
LOCAL = "#1a7f37"
#: a case on its protocol: its state, the exits open to the person asking, those refused
HERE, OPEN, REFUSED = "#ffe08a", "#c25e00", "#888888"
MUTED = "#555555"
#: points: title, cluster titles, state titles, edge and key text, state names
SIZE = {"title": 26, "cluster": 18, "state": 16, "text": 14, "name": 12}

escape = html.escape
#: an empty line that keeps its height (an empty table cell collapses)
BLANK = "&#160;"


def wrap(text: str, width: int) -> list[str]:
    """*text* escaped and wrapped into lines of at most *width* characters."""
    return [escape(line) for line in textwrap.wrap(text, width)] or [""]


def rules_text(rules: Iterable[str]) -> str:
    """' (WT-3, DER-1)', or nothing when there are no rule IDs."""
    rules = tuple(dict.fromkeys(rules))
    return f" ({', '.join(rules)})" if rules else ""


def marked(body: str, local: bool) -> str:
    """*body* (HTML) green with a star when a local protocol added or tightened it."""
    return f'<FONT COLOR="{LOCAL}">\u2605{body}</FONT>' if local else body


def entry(first: str, rest: list[str], local: bool) -> list[str]:
    """One entry over several lines (HTML): a local one starred on its first line and green throughout."""
    if not local:
        return [first, *rest]
    return [marked(first, True)] + [f'<FONT COLOR="{LOCAL}">{line}</FONT>' for line in rest]


def local_line(lineage: tuple[str, ...]) -> list[str]:
    """The legend line for local additions, when the protocol extends another."""
    if len(lineage) < 2:
        return []
    return [marked(escape(f" green: added or tightened by {lineage[-1]} over {lineage[0]}"), True)]


def rows(lines: list[str], align: str = "LEFT", padding: int = 1) -> str:
    """Lines (HTML) stacked as a borderless table, one row each, so that no line touches the next."""
    body = "".join(f'<TR><TD ALIGN="{align}" BALIGN="{align}">{line}</TD></TR>' for line in lines)
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="{padding}">{body}</TABLE>'
