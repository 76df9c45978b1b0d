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

from ..definition import Definition, EventDef
from .key import Key, legend, table
from .overlay import CaseOverlay, exit_mark, here
from .style import (CIN, CIN_FILL, CLOSED, CP, CP_FILL, FONT, MUTED, SIZE, escape, is_local, marked, rows,
                            rules_text, wrap)

__all__ = ["diagram_source"]

#: each path's cluster: its title, where the title goes, its fill. The child protection
#: title sits under its cluster, in two lines, because arrows into child protection come
#: from above and would run through it.
_CLUSTERS = {"cin": ("Child in Need (section 17)", "t", CIN_FILL),
             "cp": ("Child protection\n(registered social workers only)", "b", CP_FILL)}
_START = {"label": "", "shape": "circle", "style": "filled", "fillcolor": "black", "width": "0.22"}
_NOTE_WIDTH = 34  # characters per line of a case's note on an exit


def _move_lines(name: str, ev: EventDef, review: bool, base: str, key: Key | None, note: str, colour: str,
                made: bool) -> list[str]:
    """A move's lines: the case's note on it, the event with its own rule IDs, and its key references."""
    lines = [f'<FONT COLOR="{colour}">{line}</FONT>' for line in wrap(note, _NOTE_WIDTH)] if note else []
    event = ("\u21bb " if review else "") + f"<B>{escape(name)}</B>{escape(rules_text(ev.rules))}"
    lines.append(("\u2713 " if made and review else "") + marked(event, is_local(ev.origin, base)))
    if key is not None:
        lines.append(("\u2003" if review else "") + key.line(ev))
    return lines


Arrow = tuple[str, str, list[str], dict[str, str]]


def _moves(d: Definition, key: Key | None, overlay: CaseOverlay | None
           ) -> tuple[list[Arrow], dict[str, list[str]]]:
    """Every arrow as (source, target, label lines, edge attributes), and each stage's reviews as lines."""
    arrows: list[Arrow] = []
    reviews: dict[str, list[str]] = {s: [] for s in d.states}
    for name, ev in d.events.items():
        for source in ev.sources:
            note, colour, style = exit_mark(overlay, name, source)
            made = overlay is not None and (name, source) in overlay.taken
            lines = _move_lines(name, ev, source == ev.to, d.lineage[0], key, note, colour, made)
            if source == ev.to:
                reviews[source] += lines
                continue
            attrs = {"color": CP if d.states[ev.to].path == "cp" else CIN, **style}
            if made:
                attrs.update(penwidth="3.5", style="bold")
            arrows.append((source, ev.to, lines, attrs))
    return arrows, reviews


def _state_label(name: str, title: str, local: bool, reviews: list[str], timescales: str = "") -> str:
    """The stage's title and name, the timescales running in it, then its reviews under a rule."""
    lines = [f'<FONT POINT-SIZE="{SIZE["state"]}">{marked(escape(title or name), local)}</FONT>',
             f'<FONT POINT-SIZE="{SIZE["name"]}" COLOR="{MUTED}">{escape(name)}</FONT>']
    if timescales:
        lines.append(f'<FONT POINT-SIZE="{SIZE["name"]}">{timescales}</FONT>')
    head = rows(lines, "CENTER")
    if not reviews:
        return f"<{head}>"
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2"><TR><TD>{head}</TD></TR><HR/>'
            f'<TR><TD>{rows(reviews)}</TD></TR></TABLE>>')


def diagram_source(d: Definition, compact: bool = False, overlay: CaseOverlay | None = None) -> str:
    """DOT source for *d* (deterministic: same definition, same text), optionally with one case on it.

    The title is the graph's label, on top; the key is a node on the last rank, hung under
    the closed states by invisible edges, so that a reader meets it after the drawing.
    """
    import graphviz

    base = d.lineage[0]
    key = None if compact else Key(base, d.deadlines)
    arrows, reviews = _moves(d, key, overlay)  # numbers the key in the order the arrows are drawn
    title = f"{d.title or d.name} (v{d.version})" + (f": case {overlay.case_id}" if overlay else "")
    g = graphviz.Digraph(d.name, graph_attr={
        "label": title, "labelloc": "t", "fontsize": str(SIZE["title"]), "fontname": FONT, "rankdir": "TB",
        "newrank": "true", "nodesep": "0.3", "ranksep": "0.3", "pad": "0.2"},
        node_attr={"fontname": FONT, "fontsize": str(SIZE["text"]), "shape": "box", "style": "rounded,filled",
                   "fillcolor": "white", "margin": "0.12,0.04"},
        edge_attr={"fontname": FONT, "fontsize": str(SIZE["text"]), "arrowsize": "0.8"})

    def stage(graph: graphviz.Digraph, name: str, **attrs: str) -> None:
        s = d.states[name]
        label = _state_label(name, s.title, is_local(s.origin, base), reviews[name],
                             key.timescales(name) if key else "")
        graph.node(name, label=label, **{**attrs, **here(overlay, name)})

    start_path = d.states[d.initial].path
    for path, (label, where, fill) in _CLUSTERS.items():
        with g.subgraph(name=f"cluster_{path}") as cluster:
            cluster.attr(label=label, labelloc=where, style="filled", color=fill, fontsize=str(SIZE["cluster"]),
                         margin="14")
            if path == start_path:  # inside, so that the first arrow does not cross the cluster's title
                cluster.node("__start", **_START)
            for name, s in d.states.items():
                if s.path == path and s.open:
                    stage(cluster, name, penwidth="2.5" if s.initial else "1")
    if start_path not in _CLUSTERS:
        g.node("__start", **_START)
    for name, s in d.states.items():
        if s.open and s.path not in _CLUSTERS:
            stage(g, name)
    closed = [name for name, s in d.states.items() if not s.open]
    with g.subgraph() as bottom:
        bottom.attr(rank="same")
        for name in closed:
            stage(bottom, name, peripheries="2", fillcolor=CLOSED)
    items = (key.items() if key else []) + legend(d, *((overlay.case_id, overlay.actor) if overlay else ()))
    with g.subgraph() as foot:
        foot.attr(rank="max")
        foot.node("__key", label=table(items, 4 if key else 3), shape="plaintext", style="")
    for name in closed:
        g.edge(name, "__key", style="invis")
    g.edge("__start", d.initial)
    for source, to, lines, attrs in arrows:
        g.edge(source, to, label=f"<{rows(lines)}>", **attrs)
    return str(g.source)
