"""Shared option types: dates and times parsed with casework's own rules."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["When", "Day", "as_option", "json_option"]


class _Parsed(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click stubs
    """An option value read by one of casework's parsers; its BadInput becomes a usage error."""

    def __init__(self, name: str, parser: str):
        self.name = name
        self._parser = parser

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from casework.workflow import clock
        from casework.errors import BadInput

        try:
            return getattr(clock, self._parser)(value)
        except BadInput as exc:
            self.fail(str(exc), param, ctx)


def When() -> _Parsed:
    """'2024-10-04' or '2024-10-04T09:30' (England time unless an offset is given)."""
    return _Parsed("WHEN", "parse_when")


def Day() -> _Parsed:
    """A calendar date, YYYY-MM-DD."""
    return _Parsed("DATE", "parse_day")


as_option = click.option("--as", "actor", required=True, metavar="STAFF", help="Who is acting (staff id).")


def json_option(func: F) -> F:
    """--json, remembered so that a refusal is printed as JSON too."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.meta["casework.json"] = value
        return value

    return click.option("--json", "as_json", is_flag=True, callback=remember, expose_value=True,
                        help="Print stable JSON instead of text.")(func)
