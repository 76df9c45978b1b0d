"""Reading definition files: YAML in, plain data out, and the line of every key path.

Definition files come from users, so the reader treats them as hostile. It reads at most
:data:`MAX_BYTES`, insists on UTF-8, and builds the data itself from libyaml's event
stream with an explicit stack, so that nesting, size, aliases, tags, merge keys and
duplicate or non-string keys are refused (file, YAML path, line, fix) in bounded time and
memory, never with a traceback. A file it accepts reads as ``yaml.safe_load`` reads it.
Lines are recorded while building, so any later error names its line without reparsing.
The reading itself is :mod:`.yaml_reading`, imported only when a file is read: a command whose
definitions come from the user's cache never imports YAML.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DefinitionProblem
from .source_paths import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_NUMBER, Key, path_text

__all__ = ["Source", "read_source", "path_text", "Key",
           "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "MAX_ALIASES", "MAX_NUMBER"]

@dataclass
class Source:
    """One definition file as read: its data and the line of every key path in it."""

    file: str
    data: dict[str, Any]
    text: str
    #: line of each mapping key and list item; paths inside an alias's value are not listed
    lines: dict[Key, int] = field(default_factory=dict, repr=False, compare=False)

    def line(self, path: Key) -> int | None:
        """Line of the deepest part of *path* that exists in the file."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def problem(self, path: Key, problem: str, fix: str = "") -> DefinitionProblem:
        """A problem located in this file."""
        return DefinitionProblem(self.file, path_text(path), problem, fix, self.line(path))


def read_source(file: Path) -> Source:
    """Read and parse one file; anything unreadable, hostile or not a mapping is an InvalidDefinition."""
    from .yaml_reading import decode, invalid, parse, read_bytes

    name = str(file)
    text = decode(read_bytes(file, name), name)
    data, lines = parse(text, name)
    if not isinstance(data, dict):
        raise invalid(name, (), "a definition is a YAML mapping with 'name', 'states', 'events' ...",
                       "start from machines/national.yaml or a local protocol", 1)
    return Source(name, data, text, lines)
