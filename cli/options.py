"""Shared option types: dates and times parsed with casework's own rules."""
from __future__ import annotations

from typing import Any

import click

__all__ = ["When", "Day", "as_option", "json_option"]


class When(click.ParamType):
    """'2024-10-04' or '2024-10-04T09:30' (England time unless an offset is given)."""

    name = "WHEN"

    def convert(self, value: Any, param, ctx) -> Any:
        from workflow.clock import parse_when
        from workflow.errors import BadInput

        try:
            return parse_when(value)
        except BadInput as exc:
            self.fail(str(exc), param, ctx)


class Day(click.ParamType):
    """A calendar date, YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value: Any, param, ctx) -> Any:
        from workflow.clock import parse_day
        from workflow.errors import BadInput

        try:
            return parse_day(value)
        except BadInput as exc:
            self.fail(str(exc), param, ctx)


as_option = click.option("--as", "actor", required=True, metavar="STAFF", help="Who is acting (staff id).")


def json_option(func):
    """--json, remembered so that a refusal is printed as JSON too."""

    def remember(ctx: click.Context, _param, value: bool) -> bool:
        ctx.meta["casework.json"] = value
        return value

    return click.option("--json", "as_json", is_flag=True, callback=remember, expose_value=True,
                        help="Print stable JSON instead of text.")(func)
