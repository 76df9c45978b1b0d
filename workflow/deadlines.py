"""Deadlines and cadences declared in definitions, computed from a case's markers.

A marker is the latest time something happened on a case: ``entered:<state>``,
``event:<name>`` or ``fact:<name>``. The store keeps them up to date on every write, so
computing what is due costs the same however long a case's history is.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal, Mapping

from .calendar import WorkingCalendar, add_duration
from .clock import LONDON, day_of
from .model import Model, alias
from .requirements import ActorClause, clauses_phrase
from .requirements.base import MANY

if TYPE_CHECKING:  # pragma: no cover
    from .schema import Day, Field, Role, RuleIds

__all__ = ["Duration", "Marker", "DeadlineDef", "DueItem", "due_for_case", "due_dates_of", "due_item", "marker_key"]

Unit = Literal["working_days", "days", "weeks", "months"]


def _given(model: Model) -> list[tuple[str, Any]]:
    """The fields of *model* that are set, in declaration order."""
    return [(f.name, value) for f in fields(model) if (value := getattr(model, f.name)) is not None]


class Duration(Model):
    """'within: {working_days: 45}' — exactly one unit, a positive amount of at most five years.

    The bound keeps every due date computable (a year 9999 overflow would otherwise
    surface only when a case reached the deadline).
    """

    working_days: Annotated[int | None, Field(gt=0, le=1300)] = None
    days: Annotated[int | None, Field(gt=0, le=1830)] = None
    weeks: Annotated[int | None, Field(gt=0, le=260)] = None
    months: Annotated[int | None, Field(gt=0, le=60)] = None

    def __post_init__(self) -> None:
        if len(_given(self)) != 1:
            raise ValueError("give exactly one of working_days, days, weeks, months (a positive number)")

    @property
    def unit(self) -> Unit:
        return _given(self)[0][0]  # type: ignore[return-value]

    @property
    def amount(self) -> int:
        return int(_given(self)[0][1])

    def text(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


class Marker(Model):
    """Something that happens on a case (entering a state, an event, a fact), or a fixed date."""

    entered: str | None = None
    event: str | None = None
    fact: str | None = None
    #: a fixed day (YAML key ``date``), e.g. a trial's end: "reallocate within 10 working days of it"
    day: Day | None = alias("date", default=None)

    def __post_init__(self) -> None:
        if len(_given(self)) != 1:
            raise ValueError("give exactly one of entered (a state), event, fact or date")

    def key(self) -> str:
        kind, name = _given(self)[0]
        return marker_key(kind, str(name))

    def when(self, markers: Mapping[str, datetime]) -> datetime | None:
        """When it happened on this case (for a fixed date: the start of that day in England)."""
        if self.day is not None:
            return datetime.combine(self.day, time(0), LONDON)
        return markers.get(self.key())

    def text(self) -> str:
        kind, name = _given(self)[0]
        if kind == "day":
            return str(name)
        if (kind, name) == ("event", "allocate"):
            return "allocation"
        return {"entered": f"entering {name}", "event": f"'{name}'", "fact": f"recording '{name}'"}[kind]


def marker_key(kind: str, name: str) -> str:
    """('entered', 'cp_plan') → 'entered:cp_plan'."""
    return f"{kind}:{name}"


class DeadlineDef(Model):
    """'X within N of Y', optionally 'then every M', while the case is in some states."""

    title: str
    says: str = ""
    rules: RuleIds = ()
    while_in: Annotated[tuple[str, ...], Field(min_length=1, max_length=MANY)]
    start: Marker
    within: Duration
    met_by: Annotated[tuple[Marker, ...], Field(max_length=MANY)] = ()
    repeat: Duration | None = None
    who: Annotated[tuple[ActorClause, ...], Field(max_length=MANY)] = ()
    #: only while the lead or the worker holds one of these roles (e.g. a CCW's supervision)
    held_by: Annotated[tuple[Role, ...], Field(max_length=MANY)] = ()
    origin: str = ""


    def text(self) -> str:
        """The rule in words, for handbooks and diagrams."""
        if self.says:
            return self.says
        text = f"{self.title} within {self.within.text()} of {self.start.text()}"
        return text + (f", then at least every {self.repeat.text()}" if self.repeat else "")


@dataclass(frozen=True)
class DueItem:
    """One thing due on one case."""

    case_id: str
    name: str
    title: str
    due: date
    working_days_left: int
    overdue: bool
    rules: tuple[str, ...]
    who: str
    team: str

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "deadline": self.name, "title": self.title, "due": self.due.isoformat(),
                "working_days_left": self.working_days_left, "overdue": self.overdue, "rules": list(self.rules),
                "who": self.who, "team": self.team}


def due_dates_of(state: str, markers: Mapping[str, datetime], deadlines: Mapping[str, DeadlineDef],
                 calendar_of: Callable[[DeadlineDef], WorkingCalendar],
                 holder_roles: frozenset[str] = frozenset()) -> list[tuple[str, DeadlineDef, date]]:
    """(name, deadline, the day it falls due) of every deadline running on a case in *state*: what the case's
    markers and its lead's and worker's roles decide, the same whatever the day it is looked at."""
    found = []
    for name, dl in deadlines.items():
        if state not in dl.while_in or (dl.held_by and not holder_roles & set(dl.held_by)):
            continue
        started = dl.start.when(markers)
        if started is None:
            continue
        met = [markers[k] for k in (m.key() for m in dl.met_by) if k in markers and markers[k] >= started]
        last_met = max(met) if met else None
        if last_met is not None and dl.repeat is None:
            continue
        calendar = calendar_of(dl)
        if last_met is not None and dl.repeat is not None:
            due = add_duration(calendar, day_of(last_met), dl.repeat.amount, dl.repeat.unit)
        else:
            due = add_duration(calendar, day_of(started), dl.within.amount, dl.within.unit)
        found.append((name, dl, due))
    return found


def due_item(case_id: str, team: str, name: str, dl: DeadlineDef, due: date, calendar: WorkingCalendar,
             as_of: date) -> DueItem:
    """The item a deadline falling due on *due* makes on *as_of*."""
    return DueItem(case_id, name, dl.title, due, calendar.working_days_between(as_of, due), due < as_of, dl.rules,
                   responsible(dl), team)


def responsible(dl: DeadlineDef) -> str:
    """Who must see a deadline met, in words: the people its ``who:`` names, else the lead practitioner."""
    return clauses_phrase(dl.who) if dl.who else "the lead practitioner"


def due_for_case(case_id: str, team: str, state: str, markers: Mapping[str, datetime],
                 deadlines: Mapping[str, DeadlineDef], calendar_of: Callable[[DeadlineDef], WorkingCalendar],
                 as_of: date, holder_roles: frozenset[str] = frozenset()) -> list[DueItem]:
    """Every open item of one case, from its markers (and its lead's and worker's roles) alone.

    *calendar_of* gives the working-day calendar each deadline counts in (see Definition.calendar_of).
    """
    return [due_item(case_id, team, name, dl, due, calendar_of(dl), as_of)
            for name, dl, due in due_dates_of(state, markers, deadlines, calendar_of, holder_roles)]
