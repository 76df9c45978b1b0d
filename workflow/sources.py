"""Reading definition files: YAML in, plain data out, and where each value sits in the file.

Line numbers are only computed when an error needs them, so loading stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import DefinitionProblem, InvalidDefinition

__all__ = ["Source", "read_source", "path_text"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Key = tuple[Any, ...]


def path_text(path: Key) -> str:
    """('events', 'x', 'requires', 1) → 'events.x.requires[1]'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Source:
    """One definition file as read: its data and, on demand, the line of every key."""

    file: str
    data: dict[str, Any]
    text: str
    _lines: dict[Key, int] | None = field(default=None, repr=False)

    def line(self, path: Key) -> int | None:
        """Line of the deepest part of *path* that exists in the file."""
        if self._lines is None:
            self._lines = {}
            _walk(yaml.compose(self.text, Loader=_Loader), (), self._lines)
        for end in range(len(path), -1, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def problem(self, path: Key, problem: str, fix: str = "") -> DefinitionProblem:
        """A problem located in this file."""
        return DefinitionProblem(self.file, path_text(path), problem, fix, self.line(path))


def _walk(node: Any, path: Key, lines: dict[Key, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _walk(value, path + (i,), lines)


def read_source(file: Path) -> Source:
    """Read and parse one file; unreadable or non-mapping YAML is an InvalidDefinition."""
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidDefinition([DefinitionProblem(name, "", f"cannot read the file: {exc.strerror}",
                                                   "check the path")], stage="read") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc)
        raise InvalidDefinition([DefinitionProblem(name, "", f"not valid YAML: {what}",
                                                   "fix the YAML syntax at that line", line)],
                                stage="read") from None
    if not isinstance(data, dict):
        raise InvalidDefinition([DefinitionProblem(
            name, "", "a definition is a YAML mapping with 'name', 'states', 'events' ...",
            "start from machines/national.yaml or a local protocol", 1)], stage="read")
    return Source(name, data, text)
