"""One case drawn on its protocol's diagram: where it stands, the moves it made, and its exits.

The overlay only restyles what the protocol diagram already draws, so a trainer can put
the plain diagram and a case on it side by side and see the same picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..definition import Definition
from ..verdict import Verdict
from .style import HERE, OPEN, REFUSED, rules_text
from ...errors import DiagramError

__all__ = ["CaseOverlay", "exit_mark", "here", "definition_for_case"]


@dataclass(frozen=True)
class CaseOverlay:
    """One case drawn on its protocol: where it stands, the moves it made, and what is open to whom."""

    case_id: str
    state: str
    taken: frozenset[tuple[str, str]]  # (event, from_state) of every move the case made
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # exits of the state, for `actor`
    actor: str | None = None


def exit_mark(overlay: CaseOverlay | None, event: str, source: str) -> tuple[str, str, dict[str, str]]:
    """For an exit of the case's current state: a note, its colour, and the edge's style."""
    if overlay is None or source != overlay.state or event not in overlay.verdicts:
        return "", "", {}
    verdict = overlay.verdicts[event]
    if not verdict.refused:  # open, perhaps once a reason is given
        needs = ", ".join(dict.fromkeys(u.argument for u in verdict.missing))
        return (f"OPEN to {overlay.actor} now{f' (with {needs})' if needs else ''}", OPEN,
                {"color": OPEN, "penwidth": "2.5"})
    first = verdict.unmet[0] if verdict.unmet else None
    reason = f": {first.sentence}{rules_text(first.rules)}" if first else ""
    return f"REFUSED for {overlay.actor}{reason}", REFUSED, {"style": "dashed", "color": REFUSED}


def here(overlay: CaseOverlay | None, state: str) -> dict[str, str]:
    """Node attributes that mark the case's current state."""
    return {"fillcolor": HERE, "penwidth": "3"} if overlay is not None and overlay.state == state else {}


def definition_for_case(drawn: str, versions: Sequence[Definition], case: Mapping[str, Any]) -> Definition:
    """The version of protocol *drawn* that judges *case* (``show_case``'s summary), from *versions* (newest
    first); refuses a case of another protocol, which drawn on these rules would mislead."""
    if case["policy"] != drawn:
        raise DiagramError(f"Case {case['id']} is on the {case['policy']} protocol, not {drawn}: drawing it on "
                           f"{drawn}'s rules would show moves it cannot make. Draw it on its own protocol: "
                           f"casework diagram {case['policy']} --case {case['id']}")
    shown = str(case.get("protocol_version") or "")  # 'kent v2 (3f2a9c41b7de)', ending in the digest's start
    return next((v for v in versions if v.digest and shown.endswith(f"({v.digest[:12]})")), versions[0])
