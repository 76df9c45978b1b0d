"""Combinators: a requirement met by any one of several, or by none of them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from .base import MANY, Context, Requirement, register
from .wording import lower_first

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition
    from ..schema import Field, RequirementItem

__all__ = ["AnyOf", "NoneOf"]


class _Combinator(Requirement):
    """Shared by the combinators: nested options, their rules, parameters and references."""

    options: Annotated[tuple[RequirementItem, ...], Field(min_length=1, max_length=MANY)]

    def all_rules(self) -> tuple[str, ...]:
        rules = dict.fromkeys(self.rules)
        for o in self.options:
            rules.update(dict.fromkeys(o.all_rules()))
        return tuple(rules)

    def params(self) -> dict[str, Any]:
        return {"options": [{"kind": o.kind, **o.params()} for o in self.options]}

    def references(self) -> dict[str, tuple[str, ...]]:
        merged: dict[str, tuple[str, ...]] = {}
        for option in self.options:
            for space, names in option.references().items():
                merged[space] = merged.get(space, ()) + names
        return merged


@register
class AnyOf(_Combinator):
    """At least one option holds, e.g. 'the lead is qualified, or the supervisor approved'."""

    kind: Literal["any_of"] = "any_of"
    primary = "options"

    def holds(self, ctx: Context) -> bool:
        return any(o.holds(ctx) for o in self.options)

    def describe(self, d: "Definition | None" = None) -> str:
        if d is None:
            return "Either " + ", or ".join(o.text()[0].lower() + o.text()[1:] for o in self.options)
        return "Either " + ", or ".join(lower_first(o.text(d)) for o in self.options)

    def explain(self, ctx: Context) -> str:
        reasons = "; or ".join(o.explain(ctx) for o in self.options)
        return f"Not yet: {self.says} ({reasons})" if self.says else f"None of these holds: {reasons}"

    def who_could(self, ctx: Context) -> str:
        return " Or: ".join(filter(None, (o.who_could(ctx) for o in self.options)))


@register
class NoneOf(_Combinator):
    """None of the options holds, e.g. 'no student is allocated' before child protection."""

    kind: Literal["none_of"] = "none_of"
    primary = "options"

    def holds(self, ctx: Context) -> bool:
        return not any(o.holds(ctx) for o in self.options)

    def describe(self, d: "Definition | None" = None) -> str:
        if d is None:
            return "None of these may hold: " + "; ".join(o.text() for o in self.options)
        if len(self.options) == 1:
            return f"The opposite must hold: {lower_first(self.options[0].text(d))}"
        return "The opposite of each must hold: " + "; ".join(lower_first(o.text(d)) for o in self.options)

    def explain(self, ctx: Context) -> str:
        held = [o for o in self.options if o.holds(ctx)]
        if self.says:  # the definition's own sentence, with what holds now
            return f"{self.says} ({'; '.join(o.explain_held(ctx) for o in held)})"
        return "This must not be so, but it is: " + "; ".join(o.explain_held(ctx) for o in held)

    def who_could(self, ctx: Context) -> str:
        held = [o for o in self.options if o.holds(ctx)]
        return " ".join(filter(None, (o.undo_who(ctx) for o in held)))
