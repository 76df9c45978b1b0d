"""Actions on protocol definitions themselves: list, show (resolved), check files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .definition import Definition
from .errors import DefinitionProblem, InvalidDefinition
from .loader import load_file
from .workspace import Casework

__all__ = ["PolicyCheck", "check_policy", "list_policies", "show_policy", "definition_json"]


@dataclass(frozen=True)
class PolicyCheck:
    """The outcome of checking one file: clean, findings, or unreadable."""

    file: str
    name: str | None = None
    problems: tuple[DefinitionProblem, ...] = ()
    stage: str | None = None  # None when clean
    summary: str = ""

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings against the national invariants, 2 unreadable or malformed."""
        if self.stage is None:
            return 0
        return 1 if self.stage == "check" else 2


def check_policy(cw: Casework, files: Sequence[str | Path]) -> list[PolicyCheck]:
    """Load each file as the engine would (with ``extends``) and report every problem."""
    results = []
    for file in files:
        try:
            d = load_file(file, cw.policies.directories[:-1])
        except InvalidDefinition as exc:
            results.append(PolicyCheck(str(file), None, exc.problems, exc.stage))
            continue
        results.append(PolicyCheck(str(file), d.name, summary=(
            f"{d.name} v{d.version}: {len(d.states)} states, {len(d.events)} events, {len(d.facts)} facts"
            + (f", extends {d.extends}" if d.extends else ""))))
    return results


def list_policies(cw: Casework) -> list[Definition]:
    """Every definition on offer, loaded and checked."""
    return cw.policies.all()


def definition_json(d: Definition) -> dict[str, Any]:
    """The resolved definition as JSON (the same form the engine runs)."""
    return d.model_dump(mode="json", by_alias=True)


def show_policy(cw: Casework, name: str) -> Definition:
    """One resolved definition (after ``extends``)."""
    return cw.policies.get(name)
