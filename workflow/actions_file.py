"""Actions as data: one JSON object per line, the form ``casework import`` reads and the simulator writes.

A line names what is done (``do``), by whom (``as``), when (``at``, ISO 8601 with a zone) and to what::

    {"do": "staff", "id": "sw", "name": "Sam Smith", "roles": ["social_worker"], "registration": "SW1",
     "registered_until": "2027-03-31", "team": "North", "as": "tm"}
    {"do": "update_staff", "id": "sw", "as": "tm", "registered_until": "2028-03-31"}
    {"do": "leave_staff", "id": "sw", "as": "tm", "on": "2026-06-30"}
    {"do": "open", "case": "N-1", "policy": "national", "team": "North", "as": "tm", "at": "2026-01-05T09:00Z"}
    {"do": "allocate", "case": "N-1", "lead": "sw", "supervisor": "tm", "worker": null, "as": "tm"}
    {"do": "record", "case": "N-1", "fact": "assessment_completed", "as": "sw", "with": [], "note": ""}
    {"do": "move", "case": "N-1", "event": "start_cin_plan", "as": "sw", "reason": "Needs a plan"}
    {"do": "team", "name": "North", "as": "tm"}
    {"do": "transfer", "case": "N-1", "team": "South", "as": "tm", "reason": "The family moved"}
    {"do": "close", "case": "N-1", "reason_code": "RC8", "as": "tm", "note": "Needs met"}

In an allocation a holder left out is kept and ``null`` removes them, as in the API. Each line
becomes the call of the service function of the same name, so it is judged exactly as the
command or the API call would judge it. Validated with pydantic, so a malformed line is refused
with its line number and the field at fault.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Iterable, Iterator, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..errors import BadInput

__all__ = ["Action", "OpenCase", "Move", "Record", "Allocate", "AddStaff", "UpdateStaff", "LeaveStaff",
           "DeclareTeam", "Transfer", "Close", "parse_line", "read_lines", "to_line"]

_Id = Annotated[str, Field(min_length=1, max_length=64)]
_Text = Annotated[str, Field(max_length=10_000)]


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    actor: _Id | None = Field(None, alias="as")
    at: AwareDatetime | None = None

    def given(self, name: str) -> bool:
        """Whether the line says *name* (a holder left out of an allocation is kept, not removed)."""
        return name in self.model_fields_set


class AddStaff(_Line):
    do: Literal["staff"] = "staff"
    id: _Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    roles: tuple[_Id, ...]
    team: str | None = None
    registration: str | None = None
    registered_until: date | None = None
    pcf_level: int | None = Field(None, ge=1, le=9)
    training: tuple[_Id, ...] = ()
    reason: _Text | None = None


class UpdateStaff(_Line):
    do: Literal["update_staff"] = "update_staff"
    id: _Id
    actor: _Id = Field(alias="as")
    add_roles: tuple[_Id, ...] = ()
    remove_roles: tuple[_Id, ...] = ()
    team: str | None = None
    registration: str | None = None
    registered_until: date | None = None
    pcf_level: int | None = Field(None, ge=1, le=9)
    training: tuple[_Id, ...] | None = None
    reason: _Text | None = None


class LeaveStaff(_Line):
    do: Literal["leave_staff"] = "leave_staff"
    id: _Id
    actor: _Id = Field(alias="as")
    on: date | None = None
    reason: _Text | None = None


class OpenCase(_Line):
    do: Literal["open"] = "open"
    case: _Id
    policy: _Id
    team: Annotated[str, Field(min_length=1, max_length=100)]
    actor: _Id = Field(alias="as")


class Allocate(_Line):
    do: Literal["allocate"] = "allocate"
    case: _Id
    lead: _Id
    actor: _Id = Field(alias="as")
    #: left out: kept (see ``given``); null: nobody
    supervisor: _Id | None = None
    worker: _Id | None = None
    reason: _Text | None = None


class Record(_Line):
    do: Literal["record"] = "record"
    case: _Id
    fact: _Id
    actor: _Id = Field(alias="as")
    with_staff: tuple[_Id, ...] = Field((), alias="with")
    note: _Text = ""


class Move(_Line):
    do: Literal["move"] = "move"
    case: _Id
    event: _Id
    actor: _Id = Field(alias="as")
    reason: _Text | None = None


class DeclareTeam(_Line):
    do: Literal["team"] = "team"
    name: Annotated[str, Field(min_length=1, max_length=200)]  # workflow.team_names says what a name may be
    actor: _Id = Field(alias="as")
    reason: _Text | None = None


class Transfer(_Line):
    do: Literal["transfer"] = "transfer"
    case: _Id
    team: Annotated[str, Field(min_length=1, max_length=100)]
    actor: _Id = Field(alias="as")
    reason: _Text | None = None


class Close(_Line):
    do: Literal["close"] = "close"
    case: _Id
    reason_code: Annotated[str, Field(min_length=1, max_length=16)]
    actor: _Id = Field(alias="as")
    note: _Text | None = None


Action = Annotated[Union[AddStaff, UpdateStaff, LeaveStaff, OpenCase, Allocate, Record, Move, DeclareTeam, Transfer,
                         Close], Field(discriminator="do")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)


def parse_line(text: str, number: int) -> Any:
    """One line as an action; BadInput naming the line and the field at fault."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"Line {number}: not JSON ({exc.msg} at column {exc.colno}).") from None
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the line"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise BadInput(f"Line {number}: {where}: {first['msg']}{more}. Each line is one JSON object with "
                       f"'do' (staff, update_staff, leave_staff, team, open, allocate, record, move, transfer or "
                       f"close), 'as' and its "
                       f"fields; see 'casework import --help'.") from None


def read_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, action or the BadInput refusing it) for every line that is not blank or a '#' comment."""
    for number, text in enumerate(lines, 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            yield number, parse_line(text, number)
        except BadInput as exc:
            yield number, exc


def to_line(action: Any) -> str:
    """An action as its line (the simulator's output; what parse_line reads back)."""
    data = action.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["do"] = action.do
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
