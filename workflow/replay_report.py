"""What replaying the audit log found: each action the protocol of its moment would have refused, and a summary.

Kept apart from the replay itself (:mod:`.replay`) so that a caller that only reads a report
(the CLI, a service showing it) needs none of the replay's machinery.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .verdict import Unmet

__all__ = ["Discrepancy", "ReplayReport"]


@dataclass(frozen=True)
class Discrepancy:
    """A recorded action that would not have been allowed, or cannot be judged (an unmet of kind 'cannot_judge')."""

    chain: str
    case_id: str | None
    seq: int
    entry_id: int
    action: str
    event: str | None
    actor: str
    at: str
    unmet: tuple[Unmet, ...]

    @property
    def rules(self) -> tuple[str, ...]:
        """Every rule ID the discrepancy cites, in order of first mention."""
        return tuple(dict.fromkeys(r for u in self.unmet for r in u.rules))

    def message(self) -> str:
        """'Case C-1, entry 7 (id 31): move 'escalate_to_strategy' by ana at ...:' and one line per unmet rule."""
        where = f"Case {self.case_id}" if self.case_id else f"Chain {self.chain}"
        what = f"{self.action} '{self.event}'" if self.event else self.action
        lines = [f"{u.sentence} ({', '.join(u.rules)})" if u.rules else u.sentence for u in self.unmet]
        return f"{where}, entry {self.seq} (id {self.entry_id}): {what} by {self.actor} at {self.at}:" + \
            "".join(f"\n  - {line}" for line in lines)

    def to_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "case_id": self.case_id, "seq": self.seq, "entry_id": self.entry_id,
                "action": self.action, "event": self.event, "actor": self.actor, "at": self.at,
                "rules": list(self.rules),
                "unmet": [{"kind": u.kind, "sentence": u.sentence, "rules": list(u.rules), "params": u.params,
                           "origin": u.origin} for u in self.unmet]}


@dataclass(frozen=True)
class ReplayReport:
    """What a replay read and judged, and every discrepancy it found."""

    #: audit entries read, of every chain
    entries: int
    #: cases whose actions were judged
    cases: int
    #: opens, moves, facts and allocations judged again
    judged: int
    #: refused attempts of those cases: they changed nothing, and are not judged again
    refused: int
    discrepancies: tuple[Discrepancy, ...]

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "cases": self.cases, "judged": self.judged,
                "refused": self.refused, "discrepancies": [d.to_dict() for d in self.discrepancies]}
