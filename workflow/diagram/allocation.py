"""The allocation diagram: who may hold a case, and what must hold before it passes to them.

Each kind of holder (a lead, or a worker beside the lead) is a box that lists its own
conditions with rule IDs. The conditions belong in the box, not on an arrow, because
they apply however the case arrives: on a new case, or handed over from another lead.
The arrows only say how a case moves between holders.
"""
from __future__ import annotations

from ..definition import Definition, HolderPolicy
from ..requirements import CaseInStates
from .changes import holder_is_local
from .handover import Step, staged_handover
from .style import (BLANK, CIN, CIN_FILL, CP_FILL, FONT, LOCAL, MUTED, SIZE, entry, escape, is_local, local_line,
                    rows, rules_text, wrap)

__all__ = ["allocation_source"]

_PATHS = {"cin": "Child in Need", "cp": "child protection"}
_WIDTH = 42  # characters per line in a box
_STEP_WIDTH = 38  # characters per line of a hand-over step
#: an arrow's label, padded so that the arrow cannot graze its text
_ARROW = '<<TABLE BORDER="0" CELLPADDING="4"><TR><TD>{}</TD></TR></TABLE>>'


def _bullet(text: str, origin: str, base: str) -> list[str]:
    """'• text (rules)' wrapped, later lines indented; starred and green when local."""
    first, *rest = wrap(f"\u2022 {text}", _WIDTH)
    return entry(first, [f"\u2003{line}" for line in rest], is_local(origin, base))


def _step_lines(step: Step, bullet: bool) -> list[str]:
    """A step's title with its rule IDs (a bullet when it shares its rank), and who records it, muted."""
    title = step.title[:1].upper() + step.title[1:]
    first, *rest = wrap(("\u2022 " if bullet else "") + title + rules_text(step.rules), _STEP_WIDTH)
    lines = entry(first, [("\u2003" if bullet else "") + line for line in rest], step.local)
    if step.by:
        lines.append(f'<FONT COLOR="{MUTED}">{"&#8195;" if bullet else ""}{escape(step.by)}</FONT>')
    return lines


def _steps_table(ranks: list[list[Step]]) -> str:
    """The hand-over as numbered boxes joined by downward arrows, one box per rank, in order."""
    body = []
    for number, steps in enumerate(ranks, 1):
        lines = [f'<FONT COLOR="{MUTED}">in any order:</FONT>'] if len(steps) > 1 else []
        lines += [line for step in steps for line in _step_lines(step, len(steps) > 1)]
        colour = LOCAL if any(step.local for step in steps) else MUTED
        if number > 1:
            body.append(f'<TR><TD COLSPAN="2"><FONT COLOR="{colour}">\u25bc</FONT></TD></TR>')
        body.append(f'<TR><TD><TABLE BORDER="1" STYLE="rounded" COLOR="{colour}" BGCOLOR="white" CELLBORDER="0" '
                    f'CELLSPACING="0" CELLPADDING="3"><TR><TD VALIGN="TOP"><FONT POINT-SIZE="{SIZE["state"]}">'
                    f'<B>{number}</B></FONT></TD><TD ALIGN="LEFT">{rows(lines)}</TD></TR></TABLE></TD></TR>')
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(body)}</TABLE>'


def _holder_label(d: Definition, policy: HolderPolicy, slot: str) -> str:
    """The slot and roles, the paths it may hold, then each condition with its rule IDs; a staged hand-over
    (recorded steps the conditions put in order) as numbered steps."""
    base = d.lineage[0]
    lines = entry(f"<B>{escape(slot)}</B>{escape(rules_text(policy.rules))}", [], holder_is_local(d, policy))
    lines += wrap(", ".join(r.replace("_", " ") for r in policy.roles), _WIDTH)
    lines.append(f'<FONT COLOR="{MUTED}">{escape(" or ".join(_PATHS[p] for p in policy.paths))} cases</FONT>')
    others, ranks = staged_handover(d, policy)
    if policy.requires:
        lines.append(f'<FONT COLOR="{MUTED}">before the case passes to them:</FONT>')
    for req in others:
        lines += _bullet(req.text(d) + rules_text(req.all_rules()), req.origin, base)
    if ranks:
        lines += [f'<FONT COLOR="{MUTED}">and the hand-over, step by step, in this order:</FONT>', _steps_table(ranks)]
    return f"<{rows(lines)}>"


def _note(d: Definition) -> str:
    """Who allocates and who may supervise, with rule IDs, and what the colours mean."""
    alloc, base = d.allocation, d.lineage[0]
    lines = [f"<B>Who allocates</B>{escape(rules_text(alloc.rules))}, any of:"]
    lines += [line for c in alloc.who for line in _bullet(c.describe() + rules_text(c.rules), c.origin, base)]
    if alloc.requires:
        lines += [BLANK, "<B>Before any allocation</B>"]
        lines += [line for r in alloc.requires
                  for line in _bullet(r.text(d) + rules_text(r.all_rules()), r.origin, base)]
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


def _takes_new_cases(d: Definition, policy: HolderPolicy) -> bool:
    """Whether a new case (in the first stage) may go to this holder: not when its conditions name the stages
    it may take a case in and the first is not one (Torbay's CCW takes a case only in its CIN plan, TOR-7)."""
    return all(d.initial in r.states for r in policy.requires if isinstance(r, CaseInStates))


def allocation_source(d: Definition) -> str:
    """DOT source of who may hold a case and how it changes hands (deterministic, like the protocol's)."""
    import graphviz

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
        g.node(key, label=_holder_label(d, policy, slot), fillcolor=CP_FILL if "cp" in policy.paths else CIN_FILL)
    for number, (key, policy) in enumerate(leads):
        if _takes_new_cases(d, policy):
            g.edge("__referral", key, label=_ARROW.format("allocate"))
        for other, _p in leads[number + 1:]:
            g.edge(key, other, label=_ARROW.format("reallocate"), dir="both")  # under the target's conditions
        for worker, _p in workers:
            g.edge(key, worker, label=_ARROW.format("add a worker"))
    g.node("__note", label=_note(d), shape="note", fillcolor="#fffbe6")
    return str(g.source)
