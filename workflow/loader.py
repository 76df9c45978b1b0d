"""Load definitions: read YAML, resolve ``extends``, validate, check; all before any case moves.

A local protocol starts from its base and may add states, events, facts, rules and
requirements, replace who may act, and replace allocation policies. It can never drop
a base requirement, so a national safeguard cannot be loosened by omission, nor
reword a rule its base declares; the checks in :mod:`workflow.checks` refuse the ways
it could be loosened by addition.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

from pydantic import ValidationError

from .checks import check_definition
from .definition import Definition
from .errors import DefinitionProblem, InvalidDefinition, UnknownPolicy
from .sources import Key, Source, read_source

__all__ = ["Policies", "load_file", "shipped_directory"]

#: levels merged key by key; every other value a local protocol gives replaces the base's
_MERGED = {("states",), ("events",), ("facts",), ("allocation",), ("deadlines",), ("rulebook",),
           ("states", "*"), ("events", "*"), ("facts", "*"), ("deadlines", "*"), ("rulebook", "*")}
#: lists a local protocol appends to: base requirements always stay
_APPENDED = {("events", "*", "requires"), ("allocation", "requires")}
#: lists whose items are stamped with the definition that wrote them
_STAMPED = {"requires", "who", "leads", "workers", "supervisors"}
#: mappings whose entries are stamped likewise
_ENTRIES = {"states", "events", "facts", "deadlines", "rulebook"}
#: sections merged entry by entry through ``extends``
_SECTIONS = ("states", "events", "facts", "allocation", "deadlines", "rulebook")


def shipped_directory() -> Path:
    """Where the project's own definitions live."""
    from machines import DIRECTORY
    return DIRECTORY


def _pattern(path: Key) -> Key:
    """('events', 'close', 'requires') → ('events', '*', 'requires')."""
    if len(path) > 1 and path[0] in _ENTRIES:
        return (path[0], "*", *path[2:])
    return tuple(path)


class _Resolved:
    """Merged data plus, for any path in it, the file and file path it came from."""

    def __init__(self, data: dict[str, Any], anchors: dict[Key, tuple[Source, Key]], files: list[Source]):
        self.data = data
        self.anchors = anchors
        self.files = files

    def _locate(self, path: Key) -> tuple[Source, Key]:
        for end in range(len(path), -1, -1):
            if path[:end] in self.anchors:
                src, fpath = self.anchors[path[:end]]
                return src, fpath + tuple(path[end:])
        return self.files[-1], tuple(path)

    def problem(self, path: Key, problem: str, fix: str = "") -> DefinitionProblem:
        src, fpath = self._locate(path)
        return src.problem(fpath, problem, fix)

    def file_of(self, path: Key) -> str:
        """The name of the file that wrote *path* (e.g. 'kent.yaml')."""
        return Path(self._locate(path)[0].file).name


def _stamp(data: Any, origin: str, key: str | None = None) -> Any:
    """Mark every requirement, who clause and policy with the definition that wrote it."""
    if isinstance(data, dict):
        stamped = {k: _stamp(v, origin, k) for k, v in data.items()}
        if key in _ENTRIES:
            stamped = {k: ({**v, "origin": origin} if isinstance(v, dict) and "origin" not in v else v)
                       for k, v in stamped.items()}
        return stamped
    if isinstance(data, list):
        items = [_stamp(v, origin) for v in data]
        if key in _STAMPED:
            items = [({v: None} if isinstance(v, str) else v) for v in items]
            items = [({**v, "origin": origin} if isinstance(v, dict) and "origin" not in v else v)
                     for v in items]
        return items
    return data


def _merge(base: Any, local: Any, path: Key, src: Source, anchors: dict[Key, tuple[Source, Key]],
           fpath: Key) -> Any:
    pattern = _pattern(path)
    if pattern in _APPENDED and isinstance(base, list) and isinstance(local, list):
        for i in range(len(local)):
            anchors[path + (len(base) + i,)] = (src, fpath + (i,))
        return base + local
    if pattern in _MERGED and isinstance(base, dict) and isinstance(local, dict):
        merged = dict(base)
        for key, value in local.items():
            if key == "origin" and "origin" in base:
                continue  # an entry keeps the name of the definition that introduced it
            if key in base:
                merged[key] = _merge(base[key], value, path + (key,), src, anchors, fpath + (key,))
            else:
                merged[key] = value
                anchors[path + (key,)] = (src, fpath + (key,))
        return merged
    for stale in [k for k in anchors if k[:len(path)] == path and len(k) > len(path)]:
        del anchors[stale]
    anchors[path] = (src, fpath)
    return _keep_base_origins(base, local)


def _without_origins(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_origins(v) for k, v in data.items() if k != "origin"}
    if isinstance(data, list):
        return [_without_origins(v) for v in data]
    return data


def _keep_base_origins(base: Any, local: Any) -> Any:
    """A replaced list keeps the base's origin on every item it restates unchanged.

    A local protocol that replaces, say, the list of lead policies to tighten one of them
    repeats the others (and the base's requirements inside the tightened one) word for
    word; those are still the base's, and diagrams and handbooks must not mark them as
    local additions. Items are matched whole, anywhere in the list; an item that changed
    is matched by position to look inside it.
    """
    if isinstance(base, list) and isinstance(local, list):
        plain = [_without_origins(b) for b in base]
        kept = []
        for i, item in enumerate(local):
            bare = _without_origins(item)
            if bare in plain:
                kept.append(base[plain.index(bare)])
            elif i < len(base):
                kept.append(_keep_base_origins(base[i], item))
            else:
                kept.append(item)
        return kept
    if isinstance(base, dict) and isinstance(local, dict):
        return {k: (_keep_base_origins(base[k], v) if k in base and k != "origin" else v) for k, v in local.items()}
    return local


def _resolve(file: Path, search: Sequence[Path], seen: tuple[str, ...] = ()) -> _Resolved:
    src = read_source(file)
    name = src.data.get("name")
    if not isinstance(name, str):
        raise InvalidDefinition([src.problem(("name",), "every definition needs a 'name'",
                                             "add 'name: <protocol>' at the top")])
    data = _stamp({k: v for k, v in src.data.items() if not str(k).startswith("x-")}, name)
    base_name = data.get("extends")
    if base_name is None:
        return _Resolved(data, {(): (src, ())}, [src])
    if not isinstance(base_name, str):
        raise InvalidDefinition([src.problem(("extends",), "'extends' names one definition",
                                             "write e.g. 'extends: national'")])
    if str(file.resolve()) in seen:
        raise InvalidDefinition([src.problem(("extends",), f"'extends' loops back to {file.name}",
                                             "remove the cycle")])
    base_file = _find(base_name, [file.parent, *search])
    if base_file is None:
        known = sorted({p.stem for d in [file.parent, *search] if d.is_dir() for p in d.glob("*.yaml")})
        err = UnknownPolicy(base_name, known)
        raise InvalidDefinition([src.problem(("extends",), str(err).rstrip("."),
                                             f"extend one of: {', '.join(known)}")])
    base = _resolve(base_file, search, seen + (str(file.resolve()),))
    anchors = dict(base.anchors)
    merged: dict[str, Any] = {}
    for key in _SECTIONS:
        if key in base.data or key in data:
            merged[key] = _merge(base.data.get(key, {}), data.get(key, {}), (key,), src, anchors, (key,))
    for key, value in data.items():
        if key not in merged:
            merged[key] = value
            anchors[(key,)] = (src, (key,))
    for key, value in base.data.items():
        merged.setdefault(key, value)
    merged["extends"] = base_name
    merged["lineage"] = [*base.data.get("lineage", [base.data["name"]]), name]
    _keep_cp_states(base.data, data, src)
    _keep_rule_text(base.data, data, src)
    return _Resolved(merged, anchors, [*base.files, src])


def _keep_cp_states(base: dict[str, Any], local: dict[str, Any], src: Source) -> None:
    """WT-5: a local protocol may not take a child protection state off the CP path, or close it."""
    problems = []
    for state, spec in (base.get("states") or {}).items():
        change = ((local.get("states") or {}).get(state) or {})
        if not isinstance(spec, dict) or spec.get("path") != "cp" or not isinstance(change, dict):
            continue
        for key, keep in (("path", "cp"), ("open", True)):
            if key in change and change[key] != keep:
                problems.append(src.problem(("states", state, key),
                                            f"{state!r} is a child protection state of {base['name']!r}; a local "
                                            f"protocol cannot change its {key!r} (WT-5)",
                                            f"remove '{key}' from states.{state}"))
    if problems:
        raise InvalidDefinition(problems, stage="check")


def _keep_rule_text(base: dict[str, Any], local: dict[str, Any], src: Source) -> None:
    """A local protocol cites its base's rules as declared: it may repeat an entry, never reword it."""
    declared, given = base.get("rulebook"), local.get("rulebook")
    if not isinstance(declared, dict) or not isinstance(given, dict):
        return
    problems = []
    for rule, entry in given.items():
        kept = declared.get(rule)
        if not isinstance(entry, dict) or not isinstance(kept, dict):
            continue
        owner = kept.get("origin", base["name"])
        for key, text in entry.items():
            if key != "origin" and _words(text) != _words(kept.get(key)):
                problems.append(src.problem(("rulebook", rule, key),
                                            f"rule {rule!r} is declared by {owner!r}; a local protocol cannot "
                                            f"change its {key!r}",
                                            f"remove rulebook.{rule} from {Path(src.file).name} (it is inherited "
                                            f"as {owner!r} declares it), or declare your own reading under a "
                                            f"new rule ID"))
    if problems:
        raise InvalidDefinition(problems, stage="check")


def _words(text: Any) -> Any:
    """Text compared word by word, so a copy folded onto other lines is still the same text."""
    return " ".join(text.split()) if isinstance(text, str) else text


def _find(name: str, dirs: Iterable[Path]) -> Path | None:
    for d in dirs:
        candidate = d / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return None


def _fix_for(error: dict[str, Any]) -> str:
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


def load_file(file: Path | str, search: Sequence[Path] = ()) -> Definition:
    """Load, resolve, validate and check one definition file, or raise InvalidDefinition."""
    file = Path(file)
    resolved = _resolve(file, [*search, shipped_directory()])
    data = copy.deepcopy(resolved.data)
    data["digest"] = hashlib.sha256(json.dumps(resolved.data, sort_keys=True, default=str)
                                    .encode()).hexdigest()
    data["files"] = [s.file for s in resolved.files]
    data.setdefault("lineage", [data.get("name")])
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        errors = [(_yaml_path(err["loc"], resolved.data), err) for err in exc.errors()]
        problems = [resolved.problem(loc, err["msg"], _fix_for(err)) for loc, err in errors
                    if not (err["type"] == "too_short" and any(o[:len(loc)] == loc and o != loc for o, _ in errors))]
        raise InvalidDefinition(problems) from None
    problems = [resolved.problem(path, text, fix)
                for path, text, fix in check_definition(definition, resolved.file_of)]
    if problems:
        raise InvalidDefinition(problems, stage="check")
    return definition


class Policies:
    """The definitions a store can use: shipped ones plus any in extra directories, loaded lazily."""

    def __init__(self, directories: Sequence[Path | str] = ()):
        self.directories = [Path(d) for d in directories] + [shipped_directory()]
        self._cache: dict[str, Definition] = {}

    def names(self) -> list[str]:
        """Every definition name on offer, extra directories first."""
        found: dict[str, None] = {}
        for d in self.directories:
            if d.is_dir():
                found.update(dict.fromkeys(sorted(p.stem for p in d.glob("*.yaml"))))
        return list(found)

    def get(self, name: str) -> Definition:
        """The loaded definition called *name* (cached)."""
        if name not in self._cache:
            file = _find(name, self.directories)
            if file is None:
                raise UnknownPolicy(name, self.names())
            definition = load_file(file, self.directories[:-1])
            if definition.name != name:
                raise InvalidDefinition([DefinitionProblem(
                    str(file), "name", f"file {file.name} is named {definition.name!r}",
                    f"set 'name: {name}' or rename the file")])
            self._cache[name] = definition
        return self._cache[name]

    def all(self) -> list[Definition]:
        """Every definition on offer, loaded and checked."""
        return [self.get(n) for n in self.names()]
