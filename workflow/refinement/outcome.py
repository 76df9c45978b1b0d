"""What a refinement search found: the proof that a local protocol refines national, or a counterexample.

Kept apart from the search (:mod:`.compare`) and from the proofs' cache (:mod:`.proof`), which
both use it, so that neither has to import the other to name its results.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Proof", "Counterexample", "Key"]

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Counterexample:
    """A situation in which the local protocol allows what national refuses, in words."""

    path: Key
    action: str
    situation: tuple[str, ...]
    national_says: tuple[str, ...]
    fix: str
    local: str = ""

    def problem(self) -> str:
        lines = [f"{self.local or 'this protocol'} allows what national refuses: {self.action}"]
        lines += [f"    {line}" for line in self.situation]
        lines += [f"    national refuses: {reason}" for reason in self.national_says]
        return "\n".join(lines)


@dataclass(frozen=True)
class Proof:
    """What the refinement search compared for one protocol, and any counterexample."""

    protocol: str
    digest: str
    actions: int = 0
    identical: int = 0
    situations: int = 0
    counterexamples: tuple[Counterexample, ...] = ()
    baseline: bool = False
    cached: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.counterexamples

    def summary(self) -> str:
        """'refines national: 31 actions compared (24 identical), 18,402 situations explored'."""
        if self.baseline:
            return "the national baseline"
        return (f"refines national: {self.actions} national actions compared ({self.identical} identical to "
                f"national, {self.actions - self.identical} searched), {self.situations:,} situations explored"
                + (" (proof reused from the cache)" if self.cached else ""))


