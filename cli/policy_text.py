"""`policy show` in words: every part of a resolved protocol a trainer or an implementer asks about."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casework.workflow.definition import Definition, HolderPolicy

__all__ = ["policy_text"]


def _rules(ids: tuple[str, ...]) -> str:
    return f" ({', '.join(ids)})" if ids else ""


def _requires(d: Definition, requirements: tuple[Any, ...], indent: str) -> list[str]:
    return [f"{indent}requires: {r.text(d)}{_rules(r.all_rules())}" for r in requirements]


def _holders(d: Definition, label: str, policies: tuple[HolderPolicy, ...]) -> list[str]:
    from casework.workflow.roles import roles_phrase

    lines = []
    for p in policies:
        paths = " and ".join({"cin": "child in need", "cp": "child protection"}[x] for x in p.paths)
        lines.append(f"    {label}: {roles_phrase(p.roles)}, on {paths} cases{_rules(p.rules)}")
        if p.says:
            lines.append(f"      {p.says.strip()}")
        lines += _requires(d, p.requires, "      ")
    return lines


def policy_text(d: Definition) -> str:
    """States, moves, facts, allocation, deadlines, closure reasons and the rulebook of *d*, as text."""
    lines = [f"{d.name} v{d.version}: {d.title}" + (f" (extends {d.extends})" if d.extends else ""),
             f"  files: {', '.join(d.files)}", "  states:"]
    for name, s in d.states.items():
        path = s.path if s.path in ("cin", "cp") else "-"  # a stage where cases end belongs to no path
        lines.append(f"    {name:<22} {path:<4} {'open ' if s.open else 'ended'}  {s.title}")
    lines.append("  events:")
    for name, e in d.events.items():
        lines.append(f"    {name:<22} {e.title}: {', '.join(e.sources)} -> {e.to}{_rules(e.rules)}")
        lines.append(f"      who: {e.who_text()}")
        lines += _requires(d, e.requires, "      ")
    lines.append("  facts:")
    for name, f in d.facts.items():
        lines.append(f"    {name:<22} {f.title}{_rules(f.rules)}")
        lines.append(f"      who records it: {f.who_text()}")
        if f.choices:
            lines.append(f"      its note is one of: {', '.join(f.choices)}")
        elif f.note_required:
            lines.append("      it carries its rationale as a note")
        lines += _requires(d, f.requires, "      ")
    a = d.allocation
    lines += ["  allocation:", f"    who allocates: {a.who_text()}{_rules(a.rules)}"]
    lines += _holders(d, "lead", a.leads)
    if a.supervisors:
        lines.append(f"    supervisor: {a.supervisors_text()}")
    lines += _holders(d, "worker", a.workers)
    lines += _requires(d, a.requires, "    ")
    lines.append("  deadlines:")
    for name, dl in d.deadlines.items():
        held = f"; only while a {' or '.join(r.replace('_', ' ') for r in dl.held_by)} holds the case" \
            if dl.held_by else ""
        lines.append(f"    {name:<22} {dl.text()}{held}{_rules(dl.rules)}")
        lines.append(f"      while in: {', '.join(d.states[s].title or s for s in dl.while_in if s in d.states)}")
    if d.closure_reasons:
        lines.append("  closure reasons (casework case close CASE CODE):")
        for code, reason in d.closure_reasons.items():
            lines.append(f"    {code:<6} {reason.title} -> {reason.to}")
    lines.append("  rulebook:")
    for rule, entry in d.rulebook.items():
        lines.append(f"    {rule:<8} {entry.says}")
    return "\n".join(lines)
