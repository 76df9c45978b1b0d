"""The allocation diagram: who may hold a case, and what must hold before it passes to them.

Each kind of holder (a lead, or a worker beside the lead) is a box that lists its own
conditions with rule IDs. The conditions belong in the box, not on an arrow, because
they apply however the case arrives: on a new case, or handed over from another lead.
The arrows only say how a case moves between holders.
"""
from __future__ import annotations

from ..definition import Definition, HolderPolicy
from .style import (BLANK, CIN, CIN_FILL, CP_FILL, FONT, MUTED, SIZE, entry, escape, is_local, local_line,
                            rows, rules_text, wrap)

__all__ = ["allocation_source"]

_PATHS = {"cin": "Child in Need", "cp": "child protection"}
_WIDTH = 42  # characters per line in a box
#: an arrow's label, padded so that the arrow cannot graze its text
_ARROW = '<<TABLE BORDER="0" CELLPADDING="4"><TR><TD>{}</TD></TR></TABLE>>'


def _bullet(text: str, origin: str, base: str) -> list[str]:
    """'• text (rules)' wrapped, later lines indented; starred and green when local."""
    first, *rest = wrap(f"\u2022 {text}", _WIDTH)
    return entry(first, [f"\u2003{line}" for line in rest], is_local(origin, base))


def _holder_label(policy: HolderPolicy, slot: str, base: str) -> str:
    """The slot and roles, the paths it may hold, then each condition with its rule IDs."""
    lines = entry(f"<B>{escape(slot)}</B>{escape(rules_text(policy.rules))}", [], is_local(policy.origin, base))
    lines += wrap(", ".join(r.replace("_", " ") for r in policy.roles), _WIDTH)
    lines.append(f'<FONT COLOR="{MUTED}">{escape(" or ".join(_PATHS[p] for p in policy.paths))} cases</FONT>')
    if policy.requires:
        lines.append(f'<FONT COLOR="{MUTED}">before the case passes to them:</FONT>')
    for req in policy.requires:
        lines += _bullet(req.text() + rules_text(req.all_rules()), req.origin, base)
    return f"<{rows(lines)}>"


def _note(d: Definition) -> str:
    """Who allocates and who may supervise, with rule IDs, and what the colours mean."""
    alloc, base = d.allocation, d.lineage[0]
    lines = [f"<B>Who allocates</B>{escape(rules_text(alloc.rules))}, any of:"]
    lines += [line for c in alloc.who for line in _bullet(c.describe() + rules_text(c.rules), c.origin, base)]
    if alloc.requires:
        lines += [BLANK, "<B>Before any allocation</B>"]
        lines += [line for r in alloc.requires
                  for line in _bullet(r.text() + rules_text(r.all_rules()), r.origin, base)]
    if alloc.workers_who:
        lines += [BLANK, "<B>Who changes only the worker</B>, any of:"]
        lines += [line for c in alloc.workers_who
                  for line in _bullet(c.describe() + rules_text(c.rules), c.origin, base)]
    if alloc.supervisors:
        lines += [BLANK, "<B>Supervisor named from</B>, any of:"]
        lines += [line for c in alloc.supervisors
                  for line in _bullet(c.describe() + rules_text(c.rules), c.origin, base)]
    lines += [BLANK, "<B>Boxes</B>", "pink: may hold child protection cases", "blue: Child in Need cases only"]
    return f"<{rows(lines + local_line(d.lineage))}>"


def allocation_source(d: Definition) -> str:
    """DOT source of who may hold a case and how it changes hands (deterministic, like the protocol's)."""
    import graphviz

    base = d.lineage[0]
    g = graphviz.Digraph(f"{d.name}_allocation", graph_attr={
        "label": f"{d.title or d.name}: who holds the case, and how it changes hands", "labelloc": "t",
        "fontsize": str(SIZE["title"] - 2), "fontname": FONT, "rankdir": "LR", "nodesep": "0.4",
        "ranksep": "0.9", "pad": "0.2"},
        node_attr={"fontname": FONT, "fontsize": str(SIZE["text"]), "shape": "box", "style": "rounded,filled",
                   "fillcolor": "white", "margin": "0.12,0.06"},
        edge_attr={"fontname": FONT, "fontsize": str(SIZE["text"]), "color": CIN, "arrowsize": "0.8"})
    g.node("__referral", label="new case", fillcolor="black", fontcolor="white", fontsize=str(SIZE["state"]))
    leads = [(f"lead{i}", p) for i, p in enumerate(d.allocation.leads)]
    workers = [(f"worker{i}", p) for i, p in enumerate(d.allocation.workers)]
    for (key, policy), slot in [(h, "Lead practitioner") for h in leads] + [(h, "Worker beside the lead")
                                                                            for h in workers]:
        g.node(key, label=_holder_label(policy, slot, base), fillcolor=CP_FILL if "cp" in policy.paths else CIN_FILL)
    for number, (key, _policy) in enumerate(leads):
        g.edge("__referral", key, label=_ARROW.format("allocate"))
        for other, _p in leads[number + 1:]:
            g.edge(key, other, label=_ARROW.format("reallocate"), dir="both")  # under the target's conditions
        for worker, _p in workers:
            g.edge(key, worker, label=_ARROW.format("add a worker"))
    g.node("__note", label=_note(d), shape="note", fillcolor="#fffbe6")
    return str(g.source)
