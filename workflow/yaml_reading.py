"""The YAML side of reading definition files (see :mod:`.sources`): libyaml's event stream built into plain
data with an explicit stack, every limit enforced while building, every key's line recorded."""
from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from ..errors import DefinitionProblem, InvalidDefinition
from .source_paths import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_NUMBER, Key, path_text

__all__ = ["read_bytes", "decode", "parse", "invalid"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOM = b"\xef\xbb\xbf"
#: characters YAML does not allow anywhere in a file, not even inside quotes
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_YAML_TAG = "tag:yaml.org,2002:"
_STR, _MERGE = _YAML_TAG + "str", _YAML_TAG + "merge"
_resolve: Callable[..., str] = Resolver().resolve
_constructor = SafeConstructor()
#: how a plain scalar that is not text becomes a value, and what it is read as
_CONSTRUCT = {_YAML_TAG + kind: (getattr(_constructor, f"construct_yaml_{kind}"), noun) for kind, noun in (
    ("null", "null (no value)"), ("bool", "true or false"), ("int", "a number"), ("float", "a number"),
    ("timestamp", "a date"))}
_TOO_DEEP = (f"values are nested more than {MAX_DEPTH} levels deep",
             "flatten the structure: definitions need only a few levels")
#: the key slot of a mapping waiting for its next key
_EXPECT = object()


def invalid(file: str, path: Key, problem: str, fix: str, line: int | None) -> InvalidDefinition:
    """The error for a file the reader refuses."""
    return InvalidDefinition([DefinitionProblem(file, path_text(path), problem, fix, line)], stage="read")


def _short(text: str) -> str:
    """A scalar as quoted in a message, cut short so a hostile value cannot flood it."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


class _Frame:
    """A list or mapping being built: its path and, for a mapping, the key being filled."""

    __slots__ = ("value", "path", "key", "anchor", "start")

    def __init__(self, value: dict[str, Any] | list[Any], path: Key, anchor: str | None, start: int):
        self.value, self.path, self.anchor, self.start = value, path, anchor, start
        #: None in a list; in a mapping _EXPECT, or the key whose value comes next
        self.key: Any = _EXPECT if isinstance(value, dict) else None


class _Builder:
    """Plain data and key lines from parse events; iterative, so no document can recurse deeply."""

    def __init__(self, file: str):
        self.file = file
        self.stack: list[_Frame] = []
        self.lines: dict[Key, int] = {}
        #: anchor → (value, expanded size), or None while its value is still being built
        self.anchors: dict[str, tuple[Any, int] | None] = {}
        self.nodes = self.aliases = self.documents = 0
        self.root: Any = None
        self.handlers: dict[type, Callable[[Any], object]] = {
            yaml.ScalarEvent: self._scalar, yaml.AliasEvent: self._alias,
            yaml.MappingStartEvent: lambda event: self._start(event, {}), yaml.MappingEndEvent: self._end,
            yaml.SequenceStartEvent: lambda event: self._start(event, []), yaml.SequenceEndEvent: self._end,
            yaml.DocumentStartEvent: self._document, yaml.DocumentEndEvent: _ignore,
            yaml.StreamStartEvent: _ignore, yaml.StreamEndEvent: _ignore,
        }

    def build(self, events: Iterable[yaml.Event]) -> Any:
        """The document's data; raises InvalidDefinition at the first thing refused."""
        handlers = self.handlers
        for event in events:
            handlers[type(event)](event)
        return self.root

    def _here(self) -> Key:
        """The path of the next value."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if top.key is None:
            return top.path + (len(top.value),)
        return top.path if top.key is _EXPECT else top.path + (top.key,)

    def invalid(self, event: yaml.Event, problem: str, fix: str, path: Key | None = None) -> InvalidDefinition:
        return invalid(self.file, self._here() if path is None else path, problem, fix, _line(event))

    def _expecting_key(self) -> _Frame | None:
        """The mapping whose next key the coming event is, if it is one."""
        if self.stack and self.stack[-1].key is _EXPECT:
            return self.stack[-1]
        return None

    def _count(self, size: int, event: yaml.Event) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise self.invalid(event, f"the file holds more than {MAX_NODES:,} values (an alias counts as a copy "
                                       f"of what it refers to)",
                                "make the file smaller, or use fewer aliases to large values")

    def _refuse_tag(self, event: Any) -> None:
        if event.tag is not None:
            tag = event.tag
            shown = "!!" + tag[len(_YAML_TAG):] if tag.startswith(_YAML_TAG) else tag
            raise self.invalid(event, f"tags are not used in definitions; remove {shown!r}",
                                f"remove {shown!r} and write the value as plain YAML")

    def _document(self, event: yaml.DocumentStartEvent) -> None:
        self.documents += 1
        if self.documents > 1:
            raise self.invalid(event, "the file holds more than one YAML document (a second starts here)",
                                "keep one definition per file: remove this '---' and what follows, or move it "
                                "to a file of its own", ())

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        mapping = self._expecting_key()
        if mapping is not None:
            self._key(mapping, event)
            return
        self._refuse_tag(event)
        self._count(1, event)
        value = self._plain(event) if event.implicit[0] else event.value  # quoted and block scalars are text
        if event.anchor is not None:
            self._anchor(event, (value, 1))
        self._place(value, event)

    def _plain(self, event: yaml.ScalarEvent) -> Any:
        """A plain scalar as YAML 1.1 reads it: text, or null, true/false, a number or a date."""
        text = event.value
        tag = _resolve(yaml.ScalarNode, text, (True, False))
        if tag not in _CONSTRUCT:
            return text  # text; also '=' and '<<', which mean more only as a key
        construct, noun = _CONSTRUCT[tag]
        if noun == "a number" and len(text) > MAX_NUMBER:
            raise self.invalid(event, f"{_short(text)} is too long to be a number (over {MAX_NUMBER} characters)",
                                "write a shorter number, or quote the value if it is text")
        try:
            marks: tuple[Any, Any] = (event.start_mark, event.end_mark)  # libyaml's marks serve as well
            value = construct(yaml.ScalarNode(tag, text, *marks))
        except (ValueError, OverflowError):
            if noun == "a date":
                raise self.invalid(event, f"{_short(text)} is not a valid date",
                                    "write a real date as YYYY-MM-DD") from None
            raise self.invalid(event, f"{_short(text)} is not a valid number",
                                "write the number in digits, or quote the value if it is text") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.invalid(event, f"{_short(text)} is not a finite number",
                                "write a finite number, or quote the value if it is text")
        return value

    def _key(self, mapping: _Frame, event: yaml.ScalarEvent) -> None:
        self._refuse_tag(event)
        self._count(1, event)
        key = event.value
        path = mapping.path + (key,)
        if event.implicit[0]:
            tag = _resolve(yaml.ScalarNode, key, (True, False))
            if tag == _MERGE:
                raise self.invalid(event, "merge keys ('<<') are not used in definitions",
                                    "write the keys out in full (an alias '*name' may stand for a whole value)", path)
            if tag != _STR:
                what = f"the key {_short(key)}" if key else "an empty key"
                noun = _CONSTRUCT[tag][1] if tag in _CONSTRUCT else "something other than text"
                raise self.invalid(event, f"{what} is read as {noun}, not as a name",
                                    f'quote the key, e.g. "{key[:40]}": ...', path)
        first = self.lines.get(path)  # a path is recorded once, so a second sighting is a duplicate
        if first is not None:
            raise self.invalid(event, f"duplicate key {_short(key)} (first at line {first})",
                                "remove one of them, or merge them into one", path)
        self.lines[path] = _line(event)
        mapping.key = key
        if event.anchor is not None:
            self._anchor(event, (key, 1))

    def _start(self, event: yaml.CollectionStartEvent, value: dict[str, Any] | list[Any]) -> None:
        if self._expecting_key() is not None:
            kind = "mapping" if isinstance(value, dict) else "list"
            raise self.invalid(event, f"a key must be a name, not a {kind}", "write a plain name as the key")
        self._refuse_tag(event)
        if len(self.stack) >= MAX_DEPTH:
            raise self.invalid(event, *_TOO_DEEP)
        path = self._here()
        self._count(1, event)
        self._place(value, event)
        if event.anchor is not None:
            self._anchor(event, None)
        self.stack.append(_Frame(value, path, event.anchor, self.nodes - 1))

    def _end(self, event: yaml.CollectionEndEvent) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.value, self.nodes - frame.start)

    def _alias(self, event: yaml.AliasEvent) -> None:
        name = event.anchor
        if self._expecting_key() is not None:
            raise self.invalid(event, f"a key cannot be an alias ('*{name}')", "write the key out as a name")
        if name not in self.anchors:
            raise self.invalid(event, f"alias '*{name}' refers to no anchor: '&{name}' is not defined before it",
                                f"define '&{name}' before using '*{name}', or correct the name")
        entry = self.anchors[name]
        if entry is None:
            raise self.invalid(event, f"alias '*{name}' refers to the value that contains it, so it never ends",
                                f"move '*{name}' out of the value anchored '&{name}'")
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise self.invalid(event, f"the file uses more than {MAX_ALIASES:,} aliases",
                                "write the values out, or use fewer aliases")
        self._count(entry[1], event)
        self._place(entry[0], event)

    def _anchor(self, event: yaml.NodeEvent, entry: tuple[Any, int] | None) -> None:
        anchor = event.anchor or ""
        if anchor in self.anchors:
            raise self.invalid(event, f"anchor '&{anchor}' is defined twice", "give each anchor its own name")
        self.anchors[anchor] = entry

    def _place(self, value: Any, event: yaml.Event) -> None:
        """Put a value (a collection as soon as it starts) where it belongs, noting a list item's line."""
        if not self.stack:
            self.root = value
            self.lines[()] = _line(event)
            return
        top = self.stack[-1]
        if isinstance(top.value, list):  # a list's frame has no key
            self.lines[top.path + (len(top.value),)] = _line(event)
            top.value.append(value)
        else:
            top.value[top.key] = value
            top.key = _EXPECT


def _ignore(event: yaml.Event) -> None:
    """Stream and document ends carry nothing a definition needs."""


def read_bytes(file: Path, name: str) -> bytes:
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
            size = os.fstat(stream.fileno()).st_size
    except OSError as exc:
        raise invalid(name, (), f"cannot read the file: {exc.strerror}", "check the path", None) from None
    if len(raw) > MAX_BYTES:
        shown = f"{size:,} bytes" if size > MAX_BYTES else f"over {MAX_BYTES:,} bytes"
        raise invalid(name, (), f"the file is {shown}; a definition may be at most {MAX_BYTES:,} bytes "
                                 f"({MAX_BYTES // 1024} KiB)",
                       "make it smaller: a local protocol holds only what it changes from the one it extends", None)
    return raw


def decode(raw: bytes, name: str) -> str:
    """Strict UTF-8 (a leading byte order mark is dropped), without a character YAML forbids."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        line, column = raw.count(b"\n", 0, exc.start) + 1, len(raw[start:exc.start].decode("utf-8")) + 1
        raise invalid(name, (), f"byte 0x{raw[exc.start]:02X} at line {line}, column {column} is not UTF-8",
                       "save the file as UTF-8", line) from None
    bad = _NOT_YAML.search(text)
    if bad:
        at = bad.start()
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        raise invalid(name, (), f"character U+{ord(bad.group()):04X} at line {line}, column {column} is not "
                                 f"allowed in YAML",
                       'remove it (inside double quotes it may be written as an escape, e.g. "\\t")', line)
    return text


def _line(event: yaml.Event) -> int:
    """The 1-based line an event starts on (0 when the parser gives no position)."""
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 0


def parse(text: str, name: str) -> tuple[Any, dict[Key, int]]:
    builder = _Builder(name)
    events: Any = yaml.parse(text, Loader=_Loader)  # a generator: closed below
    try:
        return builder.build(events), builder.lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        problem, fix = f"not valid YAML: {what}", "fix the YAML syntax at that line"
        if "nesting depth" in what:  # libyaml's own limit (1000), met while it looks ahead of our MAX_DEPTH
            problem, fix = _TOO_DEEP
        raise invalid(name, (), problem, fix, mark.line + 1 if mark else None) from None
    finally:
        events.close()
