"""Many actions at once: a legacy system's extract, a training sandbox's cases, the simulator's year.

Every action is judged by the same service function as the command or API call that makes it
one at a time, so it gets the same verdict and the same audit entries in the same order. What
differs is only when they become durable: one transaction holds *group* actions (each in a
savepoint of its own), then commits.

Semantics, line by line:

- an allowed action is written; a **refused** one writes its audited attempt, as it would alone,
  and is reported with its line;
- a line that cannot be done (malformed, an unknown case or person, a date out of range, a case
  that already exists) writes nothing, is reported with its line, and the rest go on;
- when another writer and this import each wait for rows the other holds (a deadlock, on PostgreSQL, when
  two imports allocate the same people in different orders), the group so far is committed, which lets
  the other go on, and the line is done again once;
- a failure of the store itself (disk full, connection lost) stops the import: every group
  committed before it stays, the group under way is rolled back, and the report says which line
  to start again from.

On a training sandbox ``clock_from_file`` makes each action's "now" its own ``at``, so a year of
simulated practice reads as it happened; elsewhere every action is recorded now and its ``at``
must lie within the protocol's back-dating window, as for any back-dated action.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from ..errors import BadInput, CaseworkError, Conflict, LostRace, Refused, StoreNotReady
from . import service
from .actions_file import (AddStaff, Allocate, Close, DeclareTeam, LeaveStaff, Move, OpenCase, Record, Transfer,
                           UpdateStaff, read_lines)
from .units import KEEP, is_sandbox
from .workspace import Casework

__all__ = ["BulkReport", "Problem", "apply", "apply_actions", "apply_one", "DEFAULT_GROUP"]

#: actions per transaction: large enough that committing costs little per action, small enough that a
#: failure of the store loses little work
DEFAULT_GROUP = 500


@dataclass(frozen=True)
class Problem:
    """A line that was refused or could not be done."""

    line: int
    kind: str  # 'refused', 'bad input' or 'conflict'
    message: str
    #: the refusal's verdict, as ``--json`` shows it
    verdict: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "kind": self.kind, "message": self.message, "verdict": self.verdict}


@dataclass
class BulkReport:
    """What an import did: how many lines were applied, and every line that was not."""

    applied: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: the last line made durable (0: none)
    committed_through: int = 0

    @property
    def exit_code(self) -> int:
        """0 all applied; 2 a line was bad input; else 3 a conflict; else 1 a refusal (the CLI's codes)."""
        kinds = {p.kind for p in self.problems}
        for kind, code in (("bad input", 2), ("conflict", 3), ("refused", 1)):
            if kind in kinds:
                return code
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "committed_through": self.committed_through,
                "problems": [p.to_dict() for p in self.problems]}


def _at(action: Any) -> datetime | None:
    at: datetime | None = action.at
    return at.astimezone(timezone.utc) if at is not None else None


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _holder(action: Allocate, slot: str) -> Any:
    return getattr(action, slot) if action.given(slot) else KEEP


_DISPATCH: dict[type, Callable[[Casework, Any], Any]] = {
    AddStaff: lambda cw, a: service.add_staff(
        cw, a.id, a.name, a.roles, team=a.team, registration=a.registration, registered_until=a.registered_until,
        pcf_level=a.pcf_level, training=a.training, actor=a.actor, reason=a.reason),
    UpdateStaff: lambda cw, a: service.update_staff(
        cw, a.id, a.actor, add_roles=a.add_roles, remove_roles=a.remove_roles, reason=a.reason,
        **{k: getattr(a, k) for k in ("team", "registration", "registered_until", "pcf_level", "training")
           if a.given(k)}),
    LeaveStaff: lambda cw, a: service.leave_staff(cw, a.id, a.actor, on=a.on, reason=a.reason),
    OpenCase: lambda cw, a: service.open_case(cw, a.case, a.policy, a.team, a.actor, at=_at(a), shown=False),
    Allocate: lambda cw, a: service.allocate(
        cw, a.case, a.lead, a.actor, supervisor=_holder(a, "supervisor"), worker=_holder(a, "worker"),
        reason=a.reason, at=_at(a)),
    Record: lambda cw, a: service.record_fact(cw, a.case, a.fact, a.actor, with_staff=a.with_staff, note=a.note,
                                              at=_at(a)),
    Move: lambda cw, a: service.move_case(cw, a.case, a.event, a.actor, reason=a.reason, at=_at(a)),
    DeclareTeam: lambda cw, a: service.declare_team(cw, a.name, a.actor, reason=a.reason),
    Transfer: lambda cw, a: service.transfer_case(cw, a.case, a.team, a.actor, reason=a.reason, at=_at(a)),
    Close: lambda cw, a: service.close_case(cw, a.case, a.reason_code, a.actor, note=a.note, at=_at(a)),
}


def apply_one(cw: Casework, action: Any) -> Any:
    """Do one action (an :mod:`actions_file` model) through its service function, in its own unit of work."""
    return _DISPATCH[type(action)](cw, action)


def apply(cw: Casework, lines: Iterable[str], group: int = DEFAULT_GROUP, clock_from_file: bool = False,
          start: int = 1, progress: Callable[[int], None] | None = None) -> BulkReport:
    """Do every action of *lines* (JSON lines) from line *start* on, committing every *group* actions; see the
    module's semantics. A failure of the store raises StoreNotReady saying the line to start again from."""
    if group < 1:
        raise BadInput(f"The group size must be at least 1, not {group}.")
    real_clock, real_simulated = cw.clock, cw.simulated
    if clock_from_file:
        if not is_sandbox(cw):
            raise BadInput("Following the file's clock is only for training sandboxes: import into a store "
                           "made with 'casework init --sandbox', or leave the option out.")
        cw.simulated = True
    report, pending, last = BulkReport(), 0, 0
    try:
        with cw.store.batch() as batch:
            for number, action in read_lines(lines):
                if number < start:
                    continue
                last = number
                if isinstance(action, BadInput):
                    report.problems.append(Problem(number, "bad input", str(action)))
                    continue
                moment = _at(action)
                if clock_from_file and moment is not None:
                    cw.clock = _fixed(moment)
                try:
                    try:
                        apply_one(cw, action)
                    except LostRace:  # another importer waits on rows this group holds: let them go, once
                        batch.commit()
                        report.committed_through = last - 1
                        apply_one(cw, action)
                    report.applied += 1
                except Refused as exc:
                    verdict = getattr(exc, "verdict", None)
                    report.problems.append(Problem(number, "refused", str(exc),
                                                   verdict.to_dict() if verdict is not None else None))
                except StoreNotReady:
                    raise
                except Conflict as exc:
                    report.problems.append(Problem(number, "conflict", str(exc)))
                except CaseworkError as exc:
                    report.problems.append(Problem(number, "bad input", str(exc)))
                pending += 1
                if pending >= group:
                    batch.commit()
                    report.committed_through, pending = number, 0
                    if progress is not None:
                        progress(number)
            report.committed_through = last
    except StoreNotReady as exc:
        cw.snapshots.clear()  # what it kept of the rolled-back group is no longer true
        resume = report.committed_through + 1 if report.committed_through else start
        raise StoreNotReady(f"{exc} The import stopped: every line before line {resume} is in the store and "
                            f"nothing after it; start again with --from-line {resume}.") from None
    except BaseException:
        cw.snapshots.clear()
        raise
    finally:
        cw.clock, cw.simulated = real_clock, real_simulated
    return report


#: the name the embedding API's front door gives :func:`apply` (``casework.apply_actions``)
apply_actions = apply
