"""Merging a local protocol onto its resolved base (``extends``), remembering where each value came from.

States, events, facts, allocation, deadlines and rulebook entries are merged key by key;
the requirements of a base event and of the allocation are always kept, the local ones
appended; every other value the local file gives replaces the base's. Each requirement,
who clause, policy and entry is stamped with the definition that wrote it, and every path
of the merged data can be traced back to its file and line for error messages.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DefinitionProblem, InvalidDefinition
from .sources import Key, Source

__all__ = ["Resolved", "stamp", "merge", "without_origins"]

#: levels merged key by key; every other value a local protocol gives replaces the base's
_MERGED = {("states",), ("events",), ("facts",), ("allocation",), ("staff",), ("deadlines",), ("rulebook",),
           ("staff", "*"), ("closure_reasons",),
           ("states", "*"), ("events", "*"), ("facts", "*"), ("deadlines", "*"), ("rulebook", "*")}
#: lists a local protocol appends to: base requirements always stay
_APPENDED = {("events", "*", "requires"), ("allocation", "requires"), ("facts", "*", "requires"),
             ("facts", "*", "with")}
#: lists whose items are stamped with the definition that wrote them
_STAMPED = {"requires", "who", "leads", "workers", "supervisors", "workers_who", "keeps", "with"}
#: mappings whose entries are stamped likewise
_ENTRIES = {"states", "events", "facts", "staff", "deadlines", "rulebook"}
#: what each file says for itself, never inherited from its base: when its own version is in effect
_OWN = ("effective_from", "effective_until")
#: sections merged entry by entry through ``extends``
_SECTIONS = ("states", "events", "facts", "allocation", "staff", "deadlines", "rulebook", "closure_reasons")


class Resolved:
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
        """A problem at *path* of the merged data, located in the file and line that wrote it."""
        src, fpath = self._locate(path)
        return src.problem(fpath, problem, fix)

    def file_of(self, path: Key) -> str:
        """The name of the file that wrote *path* (e.g. 'kent.yaml')."""
        return Path(self._locate(path)[0].file).name


def _pattern(path: Key) -> Key:
    """('events', 'close', 'requires') → ('events', '*', 'requires')."""
    if len(path) > 1 and path[0] in _ENTRIES:
        return (path[0], "*", *path[2:])
    return tuple(path)


def stamp(data: Any, origin: str, key: str | None = None) -> Any:
    """Mark every requirement, who clause and policy with the definition that wrote it."""
    if isinstance(data, dict):
        stamped = {k: stamp(v, origin, k) for k, v in data.items()}
        if key in _ENTRIES:
            stamped = {k: ({**v, "origin": origin} if isinstance(v, dict) and "origin" not in v else v)
                       for k, v in stamped.items()}
        return stamped
    if isinstance(data, list):
        items = [stamp(v, origin) for v in data]
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


def without_origins(data: Any) -> Any:
    """*data* without the 'origin' stamps: what a definition says, whoever wrote it."""
    if isinstance(data, dict):
        return {k: without_origins(v) for k, v in data.items() if k != "origin"}
    if isinstance(data, list):
        return [without_origins(v) for v in data]
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
        plain = [without_origins(b) for b in base]
        kept = []
        for i, item in enumerate(local):
            bare = without_origins(item)
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


def merge(base: Resolved, src: Source, data: dict[str, Any]) -> Resolved:
    """*data* (the local file's, stamped) merged onto *base*; refuses what no local file may change."""
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
        if key not in _OWN:
            merged.setdefault(key, value)
    merged["lineage"] = [*base.data.get("lineage", [base.data["name"]]), data["name"]]
    problems = _cp_state_changes(base.data, data, src) + _rule_rewordings(base.data, data, src)
    if problems:
        raise InvalidDefinition(problems, stage="check")
    return Resolved(merged, anchors, [*base.files, src])


def _cp_state_changes(base: dict[str, Any], local: dict[str, Any], src: Source) -> list[DefinitionProblem]:
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
    return problems


def _rule_rewordings(base: dict[str, Any], local: dict[str, Any], src: Source) -> list[DefinitionProblem]:
    """A local protocol cites its base's rules as declared: it may repeat an entry, never reword it."""
    declared, given = base.get("rulebook"), local.get("rulebook")
    if not isinstance(declared, dict) or not isinstance(given, dict):
        return []
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
    return problems


def _words(text: Any) -> Any:
    """Text compared word by word, so a copy folded onto other lines is still the same text."""
    return " ".join(text.split()) if isinstance(text, str) else text
