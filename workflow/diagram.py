"""Diagrams drawn from the same loaded definition the engine runs, rendered by graphviz ``dot``.

Child in Need and child protection stages sit in separate clusters; each edge names
its event, who may make it and what must hold first, with rule IDs.
"""
from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

from .definition import Definition, EventDef, HolderPolicy
from .requirements import clauses_phrase
from .errors import DiagramError
from .verdict import Verdict

__all__ = ["diagram_source", "allocation_source", "render", "render_all", "CaseOverlay", "FORMATS"]

FORMATS = ("svg", "png", "pdf", "dot")
_FONT = "Helvetica"
_CLUSTERS = {"cin": ("Child in Need (section 17)", "#eef5ff"), "cp": ("Child protection (registered social workers only)", "#fff0ef")}


_LOCAL = "#1a7f37"


@dataclass(frozen=True)
class CaseOverlay:
    """One case drawn on its protocol: where it stands, the moves it made, and what is open to whom."""

    case_id: str
    state: str
    taken: frozenset[tuple[str, str]]  # (event, from_state) of every move the case made
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # exits of the state, for `actor`
    actor: str | None = None


def _lines(text: str, width: int = 40) -> str:
    """Escaped text wrapped into left-aligned lines of an HTML-like label."""
    return '<BR ALIGN="LEFT"/>'.join(html.escape(line) for line in textwrap.wrap(text, width)) + '<BR ALIGN="LEFT"/>'


def _row(text: str, local: bool) -> str:
    body = _lines(f"\u2605 {text}" if local else text)
    return f'<FONT COLOR="{_LOCAL}">{body}</FONT>' if local else body


def _edge_label(name: str, ev: EventDef, compact: bool, base: str) -> str:
    if compact:
        return name
    parts = [f'<B>{html.escape(name)}</B><BR ALIGN="LEFT"/>']
    who_local = any(c.origin and c.origin != base for c in ev.who)
    parts.append(_row("who: " + ev.who_text(), who_local))
    for req in ev.requires:
        rules = f" [{', '.join(req.all_rules())}]" if req.all_rules() else ""
        parts.append(_row(f"\u2022 {req.text()}{rules}", bool(req.origin) and req.origin != base))
    return "<" + "".join(parts) + ">"


def _legend(d: Definition) -> str:
    local = d.lineage[-1] if len(d.lineage) > 1 else None
    rows = ['<TR><TD ALIGN="LEFT"><FONT COLOR="#30508a">&#8594;</FONT> a Child in Need move</TD></TR>',
            '<TR><TD ALIGN="LEFT"><FONT COLOR="#b03020">&#8594;</FONT> a move into child protection</TD></TR>',
            '<TR><TD ALIGN="LEFT">double border: the case is closed</TD></TR>']
    if local:
        rows.append(f'<TR><TD ALIGN="LEFT"><FONT COLOR="{_LOCAL}">&#9733; added or tightened by '
                    f'{html.escape(local)} over {html.escape(d.lineage[0])}</FONT></TD></TR>')
    return '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2"><TR><TD><B>Legend</B></TD></TR>' + \
        "".join(rows) + "</TABLE>>"


def _exit_note(overlay: CaseOverlay | None, name: str, source: str) -> tuple[str, dict[str, str]]:
    """For an exit of the case's current state: a note for the label and the edge's style."""
    if overlay is None or source != overlay.state or name not in overlay.verdicts:
        return "", {}
    verdict = overlay.verdicts[name]
    if verdict.allowed:
        return f"OPEN to {overlay.actor} now", {"color": _LOCAL, "penwidth": "2.5"}
    reason = verdict.unmet[0].sentence if verdict.unmet else ""
    return f"REFUSED for {overlay.actor}: {reason}", {"style": "dashed", "color": "#888888"}


def diagram_source(d: Definition, compact: bool = False, overlay: CaseOverlay | None = None) -> str:
    """DOT source for *d* (deterministic: same definition, same text), optionally with one case on it."""
    import graphviz

    title = f"{d.title or d.name} (v{d.version})" + (f": case {overlay.case_id}" if overlay else "")
    g = graphviz.Digraph(d.name, graph_attr={
        "label": title, "labelloc": "t", "fontsize": "20",
        "fontname": _FONT, "rankdir": "TB", "nodesep": "0.6", "ranksep": "0.7", "newrank": "true"},
        node_attr={"fontname": _FONT, "shape": "box", "style": "rounded,filled", "fillcolor": "white"},
        edge_attr={"fontname": _FONT, "fontsize": "9"})
    g.node("__start", label="", shape="circle", style="filled", fillcolor="black", width="0.2")
    for path, (label, colour) in _CLUSTERS.items():
        with g.subgraph(name=f"cluster_{path}") as sub:
            sub.attr(label=label, style="filled", color=colour, fontname=_FONT)
            for s_name, s in d.states.items():
                if s.path == path and s.open:
                    sub.node(s_name, label=f"{s.title or s_name}\n({s_name})",
                             **{"penwidth": "2" if s.initial else "1", **_here(overlay, s_name)})
    for s_name, s in d.states.items():
        if not s.open:
            g.node(s_name, label=f"{s.title or s_name}\n({s_name})", shape="box", peripheries="2",
                   **{"fillcolor": "#eeeeee", **_here(overlay, s_name)})
        elif s.path not in _CLUSTERS:
            g.node(s_name, label=f"{s.title or s_name}\n({s_name})")
    g.edge("__start", d.initial)
    if not compact:
        g.node("__legend", label=_legend(d), shape="plaintext", fontsize="10")
    for name, ev in d.events.items():
        for source in ev.sources:
            cp = d.states[ev.to].path == "cp"
            note, style = _exit_note(overlay, name, source)
            label = _edge_label(name, ev, compact, d.lineage[0])
            if note:
                label = (f"{name}\n{note}" if compact else
                         f'<<FONT COLOR="{style["color"]}">{_lines(note)}</FONT>{label[1:-1]}>')
            attrs = {"color": "#b03020" if cp else "#30508a", **style}
            if overlay is not None and (name, source) in overlay.taken:
                attrs.update(penwidth="3.5", style="bold")
            g.edge(source, ev.to, label=label, **attrs)
    return g.source


def _here(overlay: CaseOverlay | None, state: str) -> dict[str, str]:
    return {"fillcolor": "#ffe08a", "penwidth": "3"} if overlay is not None and overlay.state == state else {}


def render(d: Definition, fmt: str = "svg", compact: bool = False, overlay: CaseOverlay | None = None,
           allocation: bool = False) -> bytes:
    """Rendered bytes in *fmt* (the case path, or with *allocation* the hand-over rules)."""
    if fmt not in FORMATS:
        raise DiagramError(f"Unknown diagram format {fmt!r}; use one of: {', '.join(FORMATS)}.")
    source = allocation_source(d) if allocation else diagram_source(d, compact, overlay)
    if fmt == "dot":
        return source.encode()
    import graphviz

    try:
        return graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise DiagramError("Graphviz 'dot' is not installed: run scripts/setup "
                           "(or apt-get install graphviz).") from None
    except graphviz.CalledProcessError as exc:
        raise DiagramError(f"Graphviz failed: {exc.stderr.decode(errors='replace').strip()}") from None


def render_all(definitions, directory, formats: tuple[str, ...] = ("svg", "png")) -> list:
    """Write ``<policy>.<format>`` for every definition into *directory*; returns the paths written."""
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for d in definitions:
        for fmt in formats:
            for suffix, allocation in (("", False), ("-allocation", True)):
                path = out / f"{d.name}{suffix}.{fmt}"
                path.write_bytes(render(d, fmt, allocation=allocation))
                written.append(path)
    return written


def _holder_node(policy: HolderPolicy, slot: str) -> str:
    roles = ", ".join(r.replace("_", " ") for r in policy.roles)
    where = " or ".join({"cin": "Child in Need", "cp": "child protection"}[p] for p in policy.paths)
    return f"{slot}: {roles}\n({where})"


def allocation_source(d: Definition) -> str:
    """DOT source of who may hold a case and how it changes hands (the allocation rules)."""
    import graphviz

    g = graphviz.Digraph(f"{d.name}_allocation", graph_attr={
        "label": f"{d.title or d.name}: who holds the case, and how it changes hands", "labelloc": "t",
        "fontsize": "18", "fontname": _FONT, "rankdir": "LR", "nodesep": "0.8", "ranksep": "1.6"},
        node_attr={"fontname": _FONT, "shape": "box", "style": "rounded,filled", "fillcolor": "white"},
        edge_attr={"fontname": _FONT, "fontsize": "9"})
    alloc = d.allocation
    holders = [(f"lead{i}", p, "lead") for i, p in enumerate(alloc.leads)]
    holders += [(f"worker{i}", p, "worker beside the lead") for i, p in enumerate(alloc.workers)]
    g.node("__referral", label="new case", shape="circle", style="filled", fillcolor="black", fontcolor="white",
           width="0.6")
    for key, policy, slot in holders:
        g.node(key, label=_holder_node(policy, slot),
               fillcolor="#fff0ef" if "cp" in policy.paths else "#eef5ff")
    who = _row("allocated by: " + clauses_phrase(alloc.who), False)
    supervisors = _row("supervisor named from: " + clauses_phrase(alloc.supervisors), False) \
        if alloc.supervisors else ""
    for key, policy, _slot in holders:
        rows = [f'<B>to {html.escape(policy.roles[0].replace("_", " "))}</B><BR ALIGN="LEFT"/>', who]
        for req in policy.requires:
            rules = f" [{', '.join(req.all_rules())}]" if req.all_rules() else ""
            rows.append(_row(f"\u2022 {req.text()}{rules}", bool(req.origin) and req.origin != d.lineage[0]))
        label = "<" + "".join(rows) + ">"
        others = [k for k, _p, s in holders if k != key and s == "lead"]
        if key.startswith("lead"):
            g.edge("__referral", key, label="allocate" if others else label, color="#30508a")
        for number, source in enumerate(others):
            g.edge(source, key, label=label if number == 0 else "", color="#30508a")
    if supervisors:
        g.node("__supervision", label="<" + supervisors + ">", shape="note", fillcolor="#fffbe6")
    return g.source
