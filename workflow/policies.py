"""Actions on protocol definitions themselves: list, show (resolved), check files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .checks import uncited_rules
from .definition import Definition
from ..errors import DefinitionProblem, InvalidDefinition, UnknownPolicy
from .model import dump
from .refinement import Proof
from .sources import Source, read_source
from .workspace import Casework

__all__ = ["PolicyCheck", "check_policy", "list_policies", "show_policy", "definition_json", "policy_versions"]


@dataclass(frozen=True)
class PolicyCheck:
    """The outcome of checking one file: clean (with its refinement proof), or its findings; a clean file
    may carry notes."""

    file: str
    name: str | None = None
    problems: tuple[DefinitionProblem, ...] = ()
    #: None when clean; else "read" (file or YAML), "schema" (shape and names) or "check" (the national
    #: floor, the whole-protocol checks, or a counterexample of the refinement search)
    stage: str | None = None
    summary: str = ""
    #: worth a look but not wrong (e.g. a rulebook entry nothing cites); never changes the exit code
    notes: tuple[DefinitionProblem, ...] = ()
    proof: Proof | None = None

    @property
    def exit_code(self) -> int:
        """0 clean; 2 for anything else: a definition that is unreadable, malformed or loosens national is
        bad input, whatever was found."""
        return 0 if self.stage is None else 2


def check_policy(cw: Casework, files: Sequence[str | Path]) -> list[PolicyCheck]:
    """Load each file as the engine would (with ``extends``, the floor and the search) and report every problem."""
    results = []
    for file in files:
        try:
            loaded = cw.policies.load_file(file)
        except InvalidDefinition as exc:
            results.append(PolicyCheck(str(file), None, exc.problems, exc.stage))
            continue
        d, proof = loaded.definition, loaded.proof
        results.append(PolicyCheck(str(file), d.name, summary=(
            f"{d.name} v{d.version}: {len(d.states)} states, {len(d.events)} events, {len(d.facts)} facts, "
            f"{len(d.rulebook)} rules" + (f", extends {d.extends}" if d.extends else "") + f"; {proof.summary()}"),
            notes=_uncited_notes(d) + tuple(DefinitionProblem(str(file), "", note) for note in proof.notes),
            proof=proof))
    return results


def _uncited_notes(d: Definition) -> tuple[DefinitionProblem, ...]:
    """A note, at its rulebook entry, for each declared rule that nothing in *d* cites."""
    sources: dict[str, Source] = {}
    notes = []
    for rule in uncited_rules(d):
        origin = d.rulebook[rule].origin
        file = d.files[d.lineage.index(origin)] if origin in d.lineage else d.files[-1]
        if file not in sources:
            sources[file] = read_source(Path(file))
        notes.append(sources[file].problem(
            ("rulebook", rule), f"rule {rule!r} is declared but nothing in {d.name!r} cites it, so no move, "
                                f"fact or deadline shows it",
            f"cite it ('rules: [{rule}]') where the protocol enforces it; a rule kept by leaving the base "
            f"unchanged may stay uncited"))
    return tuple(notes)


def list_policies(cw: Casework) -> list[Definition]:
    """Every definition on offer, loaded and checked."""
    return cw.policies.all()


def definition_json(d: Definition) -> dict[str, Any]:
    """The resolved definition as JSON (the same form the engine runs)."""
    found: dict[str, Any] = dump(d, by_alias=True)
    return found


def show_policy(cw: Casework, name: str) -> Definition:
    """One resolved definition (after ``extends``): a protocol on offer by *name*, or else a definition file (a
    path ending in .yaml or holding a '/'), loaded and checked as ``check_policy`` loads it. A protocol's name
    always means the protocol, whatever files the current directory holds."""
    if name not in cw.policies.names() and (name.endswith((".yaml", ".yml")) or "/" in name):
        return cw.policies.load_file(name).definition
    if name not in cw.policies.names():
        here = f" ./{name}.yaml" if Path(f"{name}.yaml").is_file() else " such as ./northshire.yaml"
        raise UnknownPolicy(name, cw.policies.names(), f"on offer (name a definition file by its path,{here}, or "
                                                       f"offer a folder's protocols with --machines DIR)")
    return cw.policies.get(name)


def policy_versions(cw: Casework, name: str | None = None) -> list[dict[str, Any]]:
    """Every version of protocol *name* (or of all) the store keeps, oldest first: digest, version, when it was
    first used, whether the files on offer hold it now, and its cases by state."""
    from casework.store import records

    from ..errors import CaseworkError

    with cw.store.read() as conn:
        kept = records.list_definitions(conn, name)
        cases = records.cases_per_version(conn)
    current: dict[str, str] = {}
    for policy in {k["name"] for k in kept}:
        try:
            current[policy] = cw.versions.current(policy).digest
        except CaseworkError:
            continue  # the file is gone or no longer loads: no version is current
    return [{"name": k["name"], "version": k["version"], "digest": k["digest"], "kept_at": k["kept_at"],
             "lineage": k["lineage"], "current": current.get(k["name"]) == k["digest"],
             "cases": dict(sorted(cases.get(k["digest"], {}).items()))} for k in kept]
