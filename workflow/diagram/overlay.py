"""One case drawn on its protocol's diagram: where it stands, the moves it made, and its exits.

The overlay only restyles what the protocol diagram already draws, so a trainer can put
the plain diagram and a case on it side by side and see the same picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .style import HERE, OPEN, REFUSED, rules_text
from ..verdict import Verdict

__all__ = ["CaseOverlay", "exit_mark", "here"]


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
