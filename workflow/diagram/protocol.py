"""The protocol diagram: stages as boxes, moves as arrows, drawn from the loaded definition.

Child in Need and child protection stages sit in separate clusters; closed states share
the bottom rank. An arrow names its event (and the event's own rule IDs); the detailed
view adds who may make it and what must hold first as references to the key under the
drawing, which carries the sentences and their rule IDs, and each stage names the
timescales that run while a case is in it (key rows T1, T2, …). A review, a move that keeps the
case in its stage, is a row of the stage's box rather than a loop, so that it cannot
tangle with the arrows.
"""
from __future__ import annotations

from ..definition import Definition
from .changes import local_changes
from .key import Key, holders, legend, table
from .moves import Move, brief_moves, moves_of, review_rows
from .overlay import CaseOverlay, here
from .pages import ELSEWHERE, PAGES, Page, page_of
from .style import CIN_FILL, CLOSED, CP_FILL, FONT, HERE, LOCAL, MUTED, SIZE, escape, is_local, marked, rows, rules_text

__all__ = ["diagram_source"]

#: each path's cluster: its title, where the title goes, its fill. The child protection
#: title is a box of its own at the foot of its cluster ("n"), in two lines, hung under the
#: last stage: arrows into child protection come from above and would run through a title on
#: top, and arrows out of it from below through a cluster label underneath, but they route
#: around a box.
_CLUSTERS = {"cin": ("Child in Need (section 17)", "t", CIN_FILL),
             "cp": ("Child protection\n(registered social workers only)", "n", CP_FILL)}
_PAD = 6  # points around an arrow's label, so that no other arrow grazes its text
_START = {"label": "", "shape": "circle", "style": "filled", "fillcolor": "black", "width": "0.22"}


def _state_label(d: Definition, name: str, reviews: list[Move], key: Key | None, compact: bool) -> str:
    """The stage's title and name, the timescales running in it (detailed: key references; compact: the
    local protocol's own deadlines by title), then its reviews under a rule."""
    s, base = d.states[name], d.lineage[0]
    lines = [f'<FONT POINT-SIZE="{SIZE["state"]}">{marked(escape(s.title or name), is_local(s.origin, base))}</FONT>',
             f'<FONT POINT-SIZE="{SIZE["name"]}" COLOR="{MUTED}">{escape(name)}</FONT>']
    if key is not None and key.timescales(name):
        lines.append(f'<FONT POINT-SIZE="{SIZE["name"]}">{key.timescales(name)}</FONT>')
    if compact:
        lines += [f'<FONT POINT-SIZE="{SIZE["name"]}" COLOR="{LOCAL}">\u2605{escape(dl.title + rules_text(dl.rules))}'
                  '</FONT>' for dl in d.deadlines.values() if name in dl.while_in and is_local(dl.origin, base)]
    head = rows(lines, "CENTER")
    if not reviews:
        return f"<{head}>"
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2"><TR><TD>{head}</TD></TR><HR/>'
            f'<TR><TD>{review_rows(reviews)}</TD></TR></TABLE>>')


def _elsewhere_label(other: str) -> str:
    """The box that stands for the stages of page *other*, naming the page to turn to."""
    name = PAGES[other]
    where = f'<FONT POINT-SIZE="{SIZE["name"]}" COLOR="{MUTED}">on the {name} page</FONT>'
    return f"<{rows([escape(name[:1].upper() + name[1:] + ' stages'), where], 'CENTER')}>"


def diagram_source(d: Definition, compact: bool = False, overlay: CaseOverlay | None = None,
                   page: str | None = None) -> str:
    """DOT source for *d* (deterministic: same definition, same text), optionally with one case on it, and
    optionally one page of it (``cin`` or ``cp``, :mod:`.pages`).

    The title is the graph's label, on top; the key is a node on the last rank, hung under
    the closed states by invisible edges, so that a reader meets it after the drawing.
    """
    import graphviz

    shown: Page = page_of(d, page, full=overlay is not None)
    key = None if compact else Key(d.lineage[0], shown.deadlines(d), d)
    moves = moves_of(d, shown, key, overlay)  # numbers the key in the order the arrows are drawn
    title = f"{d.title or d.name} (v{d.version}){shown.title()}" + (f": case {overlay.case_id}" if overlay else "")
    g = graphviz.Digraph(d.name, graph_attr={
        "label": title, "labelloc": "t", "fontsize": str(SIZE["title"]), "fontname": FONT, "rankdir": "TB",
        "newrank": "true", "nodesep": "0.3", "ranksep": "0.3", "pad": "0.2", "compound": "true"},
        node_attr={"fontname": FONT, "fontsize": str(SIZE["text"]), "shape": "box", "style": "rounded,filled",
                   "fillcolor": "white", "margin": "0.12,0.04"},
        edge_attr={"fontname": FONT, "fontsize": str(SIZE["text"]), "arrowsize": "0.8"})

    def stage(graph: graphviz.Digraph, name: str, **attrs: str) -> None:
        label = _state_label(d, name, [m for m in moves if m.review and m.source == name], key, compact)
        graph.node(name, label=label, tooltip=name, **{**attrs, **here(overlay, name)})

    start_path = d.states[d.initial].path
    for path, (label, where, fill) in _CLUSTERS.items():
        stages = [name for name, s in d.states.items() if s.path == path and s.open and name in shown.own]
        if not stages:
            continue
        with g.subgraph(name=f"cluster_{path}") as cluster:
            cluster.attr(label=label if where != "n" else "", labelloc=where, style="filled", color=fill,
                         fontsize=str(SIZE["cluster"]), margin="14")
            if where == "n":
                cluster.node(f"__{path}_title", label=label, shape="plaintext", style="", fontsize=str(SIZE["cluster"]))
                g.edge(stages[-1], f"__{path}_title", style="invis")
            if path == start_path and d.initial in shown.own:  # inside, so the first arrow misses the title
                cluster.node("__start", **_START)
            for name in stages:
                stage(cluster, name, penwidth="2.5" if d.states[name].initial else "1")
    if start_path not in _CLUSTERS and d.initial in shown.own:
        g.node("__start", **_START)
    for name, s in d.states.items():
        if s.open and s.path not in _CLUSTERS and name in shown.own:
            stage(g, name)
    closed = [name for name, s in d.states.items() if not s.open and name in shown.own]
    with g.subgraph() as bottom:  # the last closed state first: dot then draws fewer arrows over labels
        bottom.attr(rank="same")
        for name in reversed(closed):
            stage(bottom, name, peripheries="2", fillcolor=CLOSED)
    if shown.other is not None:
        elsewhere = [s for s in d.states if s not in shown.own]
        g.node(ELSEWHERE, label=_elsewhere_label(shown.other), tooltip=", ".join(elsewhere), style="rounded,dashed",
               color=MUTED, **({"fillcolor": HERE} if overlay is not None and overlay.state in elsewhere else {}))
    items = (key.items() if key else holders(d, local_changes(d))) + \
        legend(d, *((overlay.case_id, overlay.actor) if overlay else ()))
    with g.subgraph() as foot:
        foot.attr(rank="max")
        foot.node("__key", label=table(items, 4 if key else 3), shape="plaintext", style="")
    for name in closed or ([ELSEWHERE] if shown.other is not None else []):
        g.edge(name, "__key", style="invis")
    if d.initial in shown.own:
        g.edge("__start", d.initial)
    if shown.brief:  # the moves between the paths, by title, on an arrow each way (see .pages)
        last = [name for name, s in d.states.items() if s.path == "cin" and s.open and name in shown.own][-1]
        moves += brief_moves(d, shown, last, "cluster_cin")
    for move in moves:
        if not move.review:
            label = f'<<TABLE BORDER="0" CELLPADDING="{_PAD}"><TR><TD>{rows(move.lines)}</TD></TR></TABLE>>'
            g.edge(move.source, move.target, label=label, **move.attrs)
    return str(g.source)
