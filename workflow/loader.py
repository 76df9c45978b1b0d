"""Load definitions: read, resolve ``extends``, validate, hold to the national floor, prove; before any case moves.

Every definition other than the shipped national baseline extends another by name, so
each local protocol rests on national through a chain of files. Loading one:

1. reads its file safely (:mod:`workflow.sources`) and finds its base by name
   (:mod:`workflow.catalogue`: shipped names only ever mean the shipped files);
2. merges it onto the loaded base (:mod:`workflow.merging`) and validates the result;
3. keeps the base's holder requirements and checks what no merge can guarantee
   (:mod:`workflow.floor`), then the whole-protocol checks (:mod:`workflow.checks`);
4. searches for any situation where it allows what national refuses
   (:mod:`workflow.refinement`), reusing a passed search by the definition's digest.

Any finding is an InvalidDefinition located in the file and line that caused it.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .catalogue import NAME_PATTERN, NATIONAL, Catalogue, shipped_directory
from .checks import check_definition
from .definition import Definition
from ..errors import DefinitionProblem, InvalidDefinition, UnknownPolicy
from .floor import floor_findings, keep_holder_requirements
from .loaded_cache import LoadedCache
from .merging import Resolved, merge, stamp
from .model import dump, replace
from .refinement import Proof, baseline_proof, prove
from .sources import Source, read_source

__all__ = ["Policies", "Loaded", "load_file", "shipped_directory"]


@dataclass(frozen=True)
class Loaded:
    """A definition ready to run, with what it was merged from and the proof that it refines national."""

    definition: Definition
    resolved: Resolved
    proof: Proof


def _fix_for(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    field = error["loc"][-1] if error["loc"] else ""
    if field == "[key]":
        return f"rename '{error['loc'][-2]}'"
    if kind == "missing":
        return f"add '{field}'"
    if kind == "extra_forbidden":
        return f"remove '{field}' or correct its spelling"
    if kind in ("requirement_kind", "requirement_kinds", "requirement_form", "requirement_value"):
        return "write a requirement as '- kind' or '- kind: value' (see README, 'Requirement kinds')"
    return "correct the value"


def _yaml_path(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Pydantic's error location as a path in the YAML: without validator names or key markers, and
    without the requirement kind tag where 'rules'/'says' were written beside the kind rather than inside it."""
    path: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(part, str) and (part.startswith("function-") or part == "[key]"):
            continue  # a validator's name, or the marker of a mapping's key (the key itself is in the path)
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if (nxt in ("rules", "says") and isinstance(node, dict) and nxt in node
                and not (isinstance(node.get(part), dict) and nxt in node[part])):
            continue  # the kind tag: 'rules' sits beside the kind in this item, not inside it
        path.append(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return tuple(path)


def _validate(resolved: Resolved) -> Definition:
    data = dict(resolved.data)
    data["files"] = [s.file for s in resolved.files]
    data.setdefault("lineage", [data.get("name")])
    from . import schema  # pydantic, only when a file is read

    try:
        return schema.validate(Definition, data)
    except schema.ValidationError as exc:
        every = schema.errors(exc)
        errors = [(_yaml_path(err["loc"], resolved.data), err) for err in every[:MAX_PROBLEMS * 4]]
        problems = [resolved.problem(loc, err["msg"], _fix_for(err)) for loc, err in errors
                    if not (err["type"] == "too_short" and any(o[:len(loc)] == loc and o != loc for o, _ in errors))]
        raise InvalidDefinition(_shown(problems, len(problems) + len(every) - len(errors))) from None


#: fields added to the definition after versions were kept: left out of the digest while empty, so that every
#: version written before them keeps the digest its cases and audit entries name
_ADDED_LATER = ("closure_reasons",)


def body_of(definition: Definition) -> dict[str, Any]:
    """What a version is, as kept: the resolved definition without where its files lie (what its digest hashes)."""
    unused = {name for name in _ADDED_LATER if not getattr(definition, name)}
    body: dict[str, Any] = dump(definition, by_alias=True, exclude={"digest", "files", *unused})
    return body


def _digest(definition: Definition) -> str:
    """sha256 of the definition as enforced (not of where its files lie): audit entries name it."""
    body = body_of(definition)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


#: most problems reported for one file: the first few are what to fix, a flood hides them
MAX_PROBLEMS = 30


def _shown(problems: list[DefinitionProblem], total: int | None = None) -> list[DefinitionProblem]:
    """The first MAX_PROBLEMS problems, and a last line counting the rest (of *total*, if more were found)."""
    total = len(problems) if total is None else total
    if total <= MAX_PROBLEMS or not problems:
        return problems
    first = problems[0]
    more = DefinitionProblem(first.file, "", f"... and {total - MAX_PROBLEMS:,} more problems",
                             "fix the ones above and check again")
    return [*problems[:MAX_PROBLEMS], more]


def _in_file(problem: DefinitionProblem, src: Source, path: tuple[Any, ...]) -> DefinitionProblem:
    """A finding about a base's item, reported in the file being loaded: its changes caused it (the base
    loaded cleanly on its own), so that is the file to change."""
    if problem.file == src.file:
        return problem
    where = f"{Path(problem.file).name}:{problem.line}" if problem.line else Path(problem.file).name
    return DefinitionProblem(src.file, problem.path, f"{problem.problem} (the item is declared in {where}; the "
                                                     f"changes in this file cause it)", problem.fix, src.line(path))


class Policies:
    """The definitions a store can use: shipped ones plus those of a local authority's directories, loaded lazily."""

    def __init__(self, directories: Sequence[Path | str] = (), catalogue: Catalogue | None = None):
        self.catalogue = catalogue or Catalogue(directories)
        #: what earlier commands loaded from these same files, kept on disk
        self._stored = LoadedCache(self.catalogue)
        self._cache: dict[str, Loaded] = {}
        self._earlier: dict[str, list[Definition]] = {}

    @property
    def directories(self) -> list[Path]:
        """The local directories searched after the shipped definitions."""
        return list(self.catalogue.directories)

    def names(self) -> list[str]:
        """Every definition name on offer, shipped ones first."""
        return self.catalogue.names()

    def get(self, name: str) -> Definition:
        """The loaded definition called *name* (cached)."""
        return self.load(name).definition

    def all(self) -> list[Definition]:
        """Every definition on offer, loaded and checked."""
        return [self.get(n) for n in self.names()]

    def load(self, name: str, chain: tuple[str, ...] = ()) -> Loaded:
        """Protocol *name* loaded, checked and proven (cached); *chain* is the names extending it."""
        if name not in self._cache:
            file = self.catalogue.find(name)
            self._cache[name] = self._stored.get(file, lambda: self._load(file, chain, expected=name))
        return self._cache[name]

    def versions_of(self, name: str) -> list[Definition]:
        """Protocol *name*'s version in its file, then each earlier one kept in ``versions/`` beside it (cached)."""
        if name not in self._earlier:
            self._earlier[name] = [
                self._stored.get(path, self._loader(path, name)).definition
                for path in self.catalogue.earlier(name)]
        return [self.get(name), *self._earlier[name]]

    def _loader(self, path: Path, name: str) -> Callable[[], Loaded]:
        return lambda: self._load(path, (), expected=name)

    def load_file(self, file: Path | str) -> Loaded:
        """Any definition file, its base found by name among these policies and the file's own folder."""
        file = Path(file)
        return Policies(catalogue=self.catalogue.with_directory(file.parent))._load(file, ())

    def _load(self, file: Path, chain: tuple[str, ...], expected: str | None = None) -> Loaded:
        src = read_source(file)
        name = self._name(src, file, expected)
        data = stamp({k: v for k, v in src.data.items() if not str(k).startswith("x-")}, name)
        base = self._base(src, data, name, chain)
        resolved = Resolved(data, {(): (src, ())}, [src]) if base is None else merge(base.resolved, src, data)
        definition = _validate(resolved)
        if base is not None:
            definition = keep_holder_requirements(base.definition, definition)
        found = floor_findings(base.definition, definition) if base is not None else []
        checks = check_definition(definition, resolved.file_of)
        if found:  # what the floor found explains the rest; keep only checks about this file's own items
            here = Path(src.file).name
            checks = [c for c in checks if resolved.file_of(c[0]) == here]
        reported = {path for path, _, _ in found}
        found += [c for c in checks if c[0] not in reported]
        if found:
            raise InvalidDefinition(_shown([_in_file(resolved.problem(path, text, fix), src, path)
                                            for path, text, fix in found]), stage="check")
        definition = replace(definition, digest=_digest(definition))
        if base is None:
            return Loaded(definition, resolved, baseline_proof(definition))
        national = self.load(NATIONAL, chain + (name,)).definition
        proof = prove(national, definition)
        if proof.counterexamples:
            raise InvalidDefinition([_in_file(resolved.problem(c.path, c.problem(), c.fix), src, c.path)
                                     for c in proof.counterexamples], stage="check")
        return Loaded(definition, resolved, proof)

    def _name(self, src: Source, file: Path, expected: str | None) -> str:
        name = src.data.get("name")
        if not isinstance(name, str) or not re.match(NAME_PATTERN, name):
            raise InvalidDefinition([src.problem(("name",), "every definition needs a 'name': lower-case letters, "
                                                            "digits, '_' or '-', at most 64 characters",
                                                 f"add 'name: {file.stem}' at the top")])
        if expected is not None and name != expected:
            raise InvalidDefinition([DefinitionProblem(str(file), "name", f"file {file.name} is named {name!r}",
                                                       f"set 'name: {expected}' or rename the file",
                                                       src.line(("name",)))])
        if name in self.catalogue.shipped and not self.catalogue.is_shipped(file):
            raise InvalidDefinition([src.problem(("name",), f"'{name}' is a protocol shipped with casework "
                                                            f"({self.catalogue.shipped[name]}); another file cannot "
                                                            f"stand in for it",
                                                 f"give this protocol a name of its own and 'extends: {name}'")])
        return name

    def _base(self, src: Source, data: dict[str, Any], name: str, chain: tuple[str, ...]) -> Loaded | None:
        """The loaded definition *data* extends; None only for the shipped national baseline."""
        base_name = data.get("extends")
        if base_name is None:
            if name == NATIONAL and self.catalogue.is_shipped(Path(src.file)):
                return None
            raise InvalidDefinition([src.problem(("extends",), "every protocol extends the national baseline, "
                                                               "directly or through another protocol",
                                                 "add 'extends: national' (or the name of the protocol it builds on)")])
        if not isinstance(base_name, str) or not re.match(NAME_PATTERN, base_name):
            raise InvalidDefinition([src.problem(("extends",), f"'extends' names one protocol, such as 'national', "
                                                               f"not {base_name!r}; never a file path",
                                                 "write e.g. 'extends: national'; keep local files in a "
                                                 "directory given with --machines")])
        if base_name == name or base_name in chain:
            raise InvalidDefinition([src.problem(("extends",), f"'extends' loops back to {base_name!r}: "
                                                               f"{' → '.join((*chain, name, base_name))}",
                                                 "remove the cycle")])
        try:
            return self.load(base_name, (*chain, name))
        except UnknownPolicy as err:
            known = list(self.catalogue.known())
            raise InvalidDefinition([src.problem(("extends",), str(err).rstrip("."),
                                                 f"extend one of: {', '.join(known)}")]) from None


def load_file(file: Path | str, search: Sequence[Path] = ()) -> Definition:
    """Load, resolve, validate, check and prove one definition file, or raise InvalidDefinition."""
    return Policies(search).load_file(file).definition
