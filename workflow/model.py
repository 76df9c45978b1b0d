"""The running form of a definition: frozen dataclasses that load without pydantic.

A command that finds its definitions in the user's cache (workflow.loaded_cache) unpickles
them and acts; importing pydantic and building its model classes would cost it more than
the action itself. So every part of a definition is a plain frozen dataclass declared by
subclassing :class:`Model`, and pydantic validates them only when a file is read
(workflow.schema): the field types and their constraints are written once, as the
annotations here, and evaluated there.

``dump`` gives a value's JSON form exactly as pydantic's ``mode="json"`` dump does (a test
holds the two to the same text for every shipped protocol), so a definition's digest does
not depend on which of them wrote it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, TypeVar, dataclass_transform

__all__ = ["Model", "MODELS", "alias", "dump", "names", "replace"]

#: every Model class, in the order defined: workflow.schema prepares them for validation
MODELS: list[type["Model"]] = []
M = TypeVar("M", bound="Model")


def alias(name: str, **kwargs: Any) -> Any:
    """A field written under another name in YAML (``from``, ``with``, ``is``: Python keywords)."""
    return field(metadata={"alias": name}, **kwargs)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field, alias))
class Model:
    """Base of every part of a definition: immutable, keyword-only, and unknown keys refused at validation."""

    #: read by pydantic when it validates the dataclass (workflow.schema)
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid", "populate_by_name": True}
    if TYPE_CHECKING:  # every subclass is a dataclass (made so by __init_subclass__)
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    #: the fields' names, in order (set on each subclass)
    _names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # eq and repr below, once for all: the dataclass module compiles each method it writes, for every
        # class, and a command's start-up makes all of them (42 classes: about half their cost)
        dataclass(frozen=True, kw_only=True, eq=False, repr=False)(cls)
        cls._names = tuple(f.name for f in dataclasses.fields(cls))
        MODELS.append(cls)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._names)})"


def replace(obj: M, **changes: Any) -> M:
    """A copy of *obj* with *changes* (its checks run again)."""
    return dataclasses.replace(obj, **changes)


def names(cls: type[Model], by_alias: bool = True) -> list[str]:
    """The fields of *cls* as written in YAML (or as attributes), in declaration order."""
    return [f.metadata.get("alias", f.name) if by_alias else f.name for f in dataclasses.fields(cls)]


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def dump(value: Any, *, by_alias: bool = False, exclude: Iterable[str] = (), exclude_defaults: bool = False,
         exclude_none: bool = False) -> Any:
    """*value* as JSON-able data: models as dicts in field order, tuples as lists, dates as ISO text.

    *exclude* applies to the top level; *exclude_defaults* and *exclude_none* at every level, as in pydantic.
    """
    if isinstance(value, Model):
        skip = set(exclude)
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if f.name in skip:
                continue
            item = getattr(value, f.name)
            if exclude_none and item is None:
                continue
            if exclude_defaults and item == _default(f):
                continue
            key = f.metadata.get("alias", f.name) if by_alias else f.name
            out[key] = dump(item, by_alias=by_alias, exclude_defaults=exclude_defaults, exclude_none=exclude_none)
        return out
    if isinstance(value, (tuple, list)):
        return [dump(v, by_alias=by_alias, exclude_defaults=exclude_defaults, exclude_none=exclude_none)
                for v in value]
    if isinstance(value, dict):
        return {str(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else k:
                dump(v, by_alias=by_alias, exclude_defaults=exclude_defaults, exclude_none=exclude_none)
                for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value
