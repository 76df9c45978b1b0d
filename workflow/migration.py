"""Planned migration of live cases from one protocol version to another.

A case keeps the version it opened under until a practice lead moves it on. A migration
never rewrites history: each case gets one audited ``migrate`` entry that names both
versions and how its state maps, and from then on is judged by the new version. A plan
maps the states the new version renamed or removed. What the new version would make
unlawful (a lead it does not allow on the case's path, a supervisor it does not accept,
someone who has left) refuses that case's migration, with the reason, until the case is
reallocated; the others go ahead, each in its own unit of work.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, TypeVar

from .allocation import explain_allocation
from .clock import day_of
from .deadlines import due_for_case
from .definition import Definition
from ..errors import BadInput
from .people import Case, Staff, holder_roles
from .requirements import Context
from .requirements.actor import WhoMayAct
from .sources import read_source
from .verdict import Unmet, Verdict
from .versions import label

__all__ = ["MigrationPlan", "CaseMigration", "read_plan", "judge_migration", "HOLDER_KINDS"]

_T = TypeVar("_T")

#: what the new version's allocation rules may object to about who holds the case now
HOLDER_KINDS = ("lead_role", "lead_path", "supervisor_role", "worker_role", "worker_path", "holder_left")


@dataclass(frozen=True)
class MigrationPlan:
    """How the old version's states, events and facts map onto the new one's (a name not given is kept)."""

    states: dict[str, str] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)

    def state(self, old: str) -> str:
        return self.states.get(old, old)

    def renamed_markers(self, markers: Mapping[str, _T]) -> dict[str, _T]:
        """The markers the new version knows by new names ('event:<new>', 'fact:<new>'), each at its old time;
        the old ones stay, as the history they came from does."""
        found: dict[str, _T] = {}
        for marker, at in markers.items():
            kind, _, name = marker.partition(":")
            new = {"event": self.events, "fact": self.facts}.get(kind, {}).get(name)
            if new and new != name:
                found[f"{kind}:{new}"] = at
        return found

    def to_payload(self) -> dict[str, dict[str, str]]:
        """The event and fact names a migrate entry records (the state's mapping is its from/to states)."""
        return {k: v for k, v in (("events", self.events), ("facts", self.facts)) if v}


def read_plan(path: Path | None) -> MigrationPlan:
    """A plan file: ``states:``, ``events:`` and ``facts:``, each ``{old_name: new_name, ...}``, read as
    untrusted YAML."""
    if path is None:
        return MigrationPlan()
    data = read_source(path).data
    unknown = sorted(set(data) - {"states", "events", "facts"})
    maps = {key: data.get(key) or {} for key in ("states", "events", "facts")}
    if unknown or not all(isinstance(m, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
                          for m in maps.values()):
        raise BadInput(f"{path}: a migration plan holds 'states:', 'events:' and 'facts:', each "
                       f"{{old_name: new_name, ...}}" + (f" (not {', '.join(unknown)})" if unknown else "") + ".")
    return MigrationPlan(**{key: dict(m) for key, m in maps.items()})


@dataclass(frozen=True)
class CaseMigration:
    """What migrating one case would do, and whatever stands in the way."""

    case_id: str
    from_version: str
    to_version: str
    from_state: str
    to_state: str
    #: deadlines the new version starts or stops for this case (by name)
    started: tuple[str, ...]
    stopped: tuple[str, ...]
    verdict: Verdict

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "from_version": self.from_version, "to_version": self.to_version,
                "from_state": self.from_state, "to_state": self.to_state, "deadlines_started": list(self.started),
                "deadlines_stopped": list(self.stopped), "allowed": self.allowed, "verdict": self.verdict.to_dict()}


def _not_the_same_stage(old: str, new: str, source: Definition, target: Definition) -> str | None:
    """Why mapping *old* onto *new* would move the case rather than rename its stage (None: it would not).

    A state the new version still has keeps its name; a renamed one keeps its path (Child in Need, child
    protection, neither) and its openness, so no plan can take a case off the child protection path, close it
    or reopen it without the moves and the conditions the protocol puts on them."""
    if new == old:
        return None
    if old in target.states:
        return f"state {old!r} is in {label(target)} too: it keeps its name, a plan cannot move the case to {new!r}"
    was, now = source.states.get(old), target.states[new]
    if was is not None and (was.path, was.open) != (now.path, now.open):
        return (f"{old!r} ({was.path} path, {'open' if was.open else 'closed'}) cannot become {new!r} "
                f"({now.path} path, {'open' if now.open else 'closed'})")
    return None


def judge_migration(case: Case, source: Definition, target: Definition, plan: MigrationPlan, actor: Staff,
                    at: datetime) -> CaseMigration:
    """May *actor* move *case* from *source* to *target* under *plan* now, and what would change?"""
    day = day_of(at)
    new_state = plan.state(case.state)
    unmet: list[Unmet] = []
    if new_state not in target.states:
        unmet.append(Unmet("migration_state", f"state {case.state!r} has no counterpart in {label(target)}", (),
                           f"Map it in the plan (--plan FILE with 'states: {{{case.state}: ...}}').",
                           {"state": case.state}))
        moved = case
    elif (why := _not_the_same_stage(case.state, new_state, source, target)) is not None:
        unmet.append(Unmet("migration_state", why, ("WT-5", "WT-7"),
                           "A migration renames a stage, never moves the case: make the move itself, then migrate.",
                           {"state": case.state, "to": new_state}))
        moved = case
    else:
        moved = replace(case, state=new_state, policy_digest=target.digest,
                        facts=[replace(f, name=plan.facts.get(f.name, f.name)) for f in case.facts],
                        markers={**case.markers, **plan.renamed_markers(case.markers),
                                 **({f"entered:{new_state}": case.markers.get(
                                     f"entered:{case.state}", case.state_entered_at or at)}
                                    if new_state != case.state else {})})
    who = WhoMayAct.of(target.allocation.who, target.allocation.rules).unmet(
        Context(moved, actor, at, day, target))
    if who is not None:
        unmet.append(replace(who, kind="who", sentence=f"{who.sentence} (those who may allocate a case under "
                                                        f"{label(target)} may migrate it)"))
    if moved is not case and case.lead is not None and target.states[new_state].open:
        holders = explain_allocation(target, moved, actor, at, case.lead, case.supervisor, case.worker)
        unmet += [replace(u, who_could=f"Reallocate the case first. {u.who_could}".strip())
                  for u in holders.unmet if u.kind in HOLDER_KINDS]
    before = {i.name for i in due_for_case(case.id, case.team, case.state, case.markers, source.deadlines,
                                           source.calendar_of, day, holder_roles(case))}
    after = {i.name for i in due_for_case(moved.id, moved.team, moved.state, moved.markers, target.deadlines,
                                          target.calendar_of, day, holder_roles(moved))} if moved is not case else before
    verdict = Verdict("migrate", case.id, "migrate", case.state, new_state, actor.id, not unmet, tuple(unmet))
    return CaseMigration(case.id, label(source), label(target), case.state, new_state,
                         tuple(sorted(after - before)), tuple(sorted(before - after)), verdict)
