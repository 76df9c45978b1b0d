"""Requirements on where and when a protocol applies, and on what the mover must say."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from ..clock import day_words
from ...errors import BadInput
from ..team_names import team_name
from .base import MANY, Context, Requirement, register
from .wording import deadline_named, opening

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition
    from ..schema import AfterValidator, Day, Field

__all__ = ["InTeams", "WithinDates", "ReasonGiven"]


def _as_kept(teams: tuple[str, ...]) -> tuple[str, ...]:
    """Each name as a store keeps a team's (NFKC, single spaces): spelt otherwise, no case's team could match."""
    try:
        return tuple(team_name(t) for t in teams)
    except BadInput as exc:
        raise ValueError(str(exc)) from None


@register
class InTeams(Requirement):
    """The case belongs to one of these teams (pilots and trials run in named teams)."""

    kind: Literal["in_teams"] = "in_teams"
    primary = "teams"
    teams: Annotated[tuple[str, ...], Field(min_length=1, max_length=MANY), AfterValidator(_as_kept)]

    def holds(self, ctx: Context) -> bool:
        return ctx.case.team in self.teams

    def describe(self, d: "Definition | None" = None) -> str:
        return f"Only for cases of the teams: {', '.join(self.teams)}"

    def explain(self, ctx: Context) -> str:
        return f"Case {ctx.case.id} belongs to team {ctx.case.team}, not one of: {', '.join(self.teams)}"

    def who_could(self, ctx: Context) -> str:
        return "Nobody can in this team: the protocol applies only in the teams named."

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"teams": self.teams}


@register
class WithinDates(Requirement):
    """The action's date falls in a window (both ends inclusive; either may be open)."""

    kind: Literal["within_dates"] = "within_dates"
    start: Day | None = None
    end: Day | None = None

    def __post_init__(self) -> None:
        if self.start is None and self.end is None:
            raise ValueError("give 'start', 'end' or both (YYYY-MM-DD)")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"'end' {self.end} is before 'start' {self.start}")

    def holds(self, ctx: Context) -> bool:
        return (self.start is None or ctx.day >= self.start) and (self.end is None or ctx.day <= self.end)

    def _window(self) -> str:
        if self.start and self.end:
            return f"from {self.start} to {self.end}"
        return f"from {self.start}" if self.start else f"until {self.end}"

    def describe(self, d: "Definition | None" = None) -> str:
        return f"Only {self._window()}"

    def explain(self, ctx: Context) -> str:
        return f"{ctx.day} is outside the window {self._window()}"

    def who_could(self, ctx: Context) -> str:
        return "Nobody can on this date."


@register
class ReasonGiven(Requirement):
    """The person acting gives a reason, kept in the audit log (a recorded rationale)."""

    kind: Literal["reason_given"] = "reason_given"
    argument = "--reason"

    def holds(self, ctx: Context) -> bool:
        return bool(ctx.reason and ctx.reason.strip())

    def describe(self, d: "Definition | None" = None) -> str:
        return "A reason must be given"

    def who_could(self, ctx: Context) -> str:
        return "Give the reason with --reason."


@register
class NotOverdue(Requirement):
    """A deadline or cadence of the definition is not overdue on the day of the action."""

    kind: Literal["not_overdue"] = "not_overdue"
    primary = "deadline"
    deadline: str

    def holds(self, ctx: Context) -> bool:
        return not ctx.definition.overdue(self.deadline, ctx.case, ctx.day)

    def describe(self, d: "Definition | None" = None) -> str:
        if d is None:
            return f"'{self.deadline}' must not be overdue"
        return f"{opening(deadline_named(self.deadline, d))} must not be overdue"

    def explain(self, ctx: Context) -> str:
        return f"{opening(deadline_named(self.deadline, ctx.definition))} is overdue on {day_words(ctx.day)}"

    def who_could(self, ctx: Context) -> str:
        dl = ctx.definition.deadlines.get(self.deadline)
        met = ", ".join(m.text() for m in dl.met_by) if dl else ""
        return f"Bring it up to date first ({met})." if met else "Bring it up to date first."

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"deadlines": (self.deadline,)}
