"""`audit replay`: was every recorded action allowed by the rules in force when it was made? (issue 13, item 4)

Hash chains prove the log was not changed and the projections that the tables follow it;
neither proves that what the log records was ever allowed. Replay judges each open, move,
fact, allocation and migration again with the pure functions the service judged it with:
under the protocol version the case was pinned to then, the staff list as the staff chain
stood then (so registration on the day), the facts, markers and holders the case's earlier
entries made, and caseloads counted over every case. Entries are read in the order they were
written (by id) across all chains, so that a staff change or another case's allocation counts
from the moment it was made, as it did for the writer. A back-dated action is judged on its
own day and on the day it was recorded, as the service judged it.

An action the rules would have refused, one that breaks a rule the service enforces before
judging (dated in the future, beyond the back-dating window, before the case's state), one
that disagrees with the case it was made on (its state, its version), or one that cannot be
judged at all (version, actor, state, event or fact unknown) is a discrepancy: the store or
the engine is wrong. Refused attempts changed nothing; they are counted, not judged again.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable

from casework.store import Connection, audit, records

from .allocation import explain_allocation
from .clock import day_of, from_text, to_text
from .definition import Definition
from ..errors import CaseNotFound, CaseworkError
from .hydrate import staff_from_row
from .migration import MigrationPlan, judge_migration
from .people import Case, Fact, Staff, holder_changes
from .recording import explain_record
from .transfer import explain_transfer
from .units import SKEW
from .verdict import Unmet, Verdict
from .versions import VersionUnavailable, label
from .workspace import Casework
from .replay_report import Discrepancy, ReplayReport

__all__ = ["Discrepancy", "ReplayReport", "replay"]

#: what a stored entry may hold that this module cannot read (a forged or damaged payload); reported, never raised
_UNREADABLE = (CaseworkError, LookupError, TypeError, ValueError)


def replay(cw: Casework, case_id: str | None = None) -> ReplayReport:
    """Judge every recorded action of every case (or of *case_id*: CaseNotFound if the store has no such case)
    again, as it was judged when it was made. Every entry of the log is read, since staff changes and other cases'
    allocations bear on each judgment; nothing is written."""
    with cw.store.read() as conn:
        if case_id is not None and records.get_case(conn, case_id) is None:
            raise CaseNotFound(case_id)
        replayer = _Replayer(cw, conn, case_id)
        for entry in audit.in_written_order(conn):
            replayer.feed(entry)
    judged_cases = [cid for cid in replayer.cases if case_id in (None, cid)]
    return ReplayReport(replayer.entries, len(judged_cases), replayer.judged, replayer.refused,
                        tuple(replayer.found))


class _Unjudgeable(Exception):
    """Why an entry cannot be judged (inside this module only: it becomes a 'cannot_judge' discrepancy)."""


def _cannot(why: str) -> Unmet:
    return Unmet("cannot_judge", why)


def _attempt(context: str, step: Callable[..., Any], *args: Any) -> list[Unmet]:
    """What *step* found (a list of unmet, or None), or why it could not be done: never raised, never skipped."""
    try:
        return list(step(*args) or ())
    except (_Unjudgeable, CaseworkError) as exc:
        return [_cannot(f"{context}{exc}")]
    except _UNREADABLE as exc:
        return [_cannot(f"{context}the entry cannot be read ({exc!r})")]


@dataclass
class _Record:
    """A case as its chain had made it so far: people by id, so each judgment sees the staff of its own moment."""

    id: str
    policy: str
    team: str
    state: str
    opened_at: datetime
    digest: str | None
    version: int = 1
    state_entered_at: datetime | None = None
    allocated_at: datetime | None = None
    lead: str | None = None
    supervisor: str | None = None
    worker: str | None = None
    previous_lead: str | None = None
    #: the lead of each allocation, oldest first (the case's former leads)
    leads: list[str] = field(default_factory=list)
    #: (at, lead, supervisor, worker) of each allocation, oldest first
    allocations: list[tuple[datetime, str | None, str | None, str | None]] = field(default_factory=list)
    #: (name, at, by, with, note, state) of each fact, in the order recorded
    facts: list[tuple[str, datetime, str, tuple[str, ...], str, str]] = field(default_factory=list)
    markers: dict[str, datetime] = field(default_factory=dict)

    def mark(self, marker: str, at: datetime) -> None:
        if marker not in self.markers or at > self.markers[marker]:
            self.markers[marker] = at

    def holders(self) -> set[str]:
        """Who holds it day to day, as caseloads count: the lead and any worker."""
        return {p for p in (self.lead, self.worker) if p is not None}

    def as_case(self, staff: dict[str, Staff]) -> Case:
        """The case as the service read it from the tables at this moment (hydrate.load_case_for_write)."""
        former: list[str] = []
        for earlier in reversed(self.leads):
            if earlier != self.lead and earlier not in former:
                former.append(earlier)
        facts = [Fact(name, at, staff[by], tuple(staff[w] for w in with_ if w in staff), note, state)
                 for name, at, by, with_, note, state in sorted(self.facts, key=lambda f: f[1]) if by in staff]
        lead, supervisor, worker, previous = (staff.get(p) if p else None for p in (
            self.lead, self.supervisor, self.worker, self.previous_lead))
        return Case(self.id, self.policy, self.team, self.state, self.version, self.opened_at, self.state_entered_at,
                    self.allocated_at, lead, supervisor, worker, previous, tuple(former), facts, dict(self.markers),
                    self.digest, *holder_changes(self.allocations))


def _on_both_days(judge: Callable[[datetime], Verdict], at: datetime, now: datetime) -> tuple[Unmet, ...]:
    """What was unmet on the action's day and, for a back-dated one, on the day it was recorded: the service
    allowed a back-dated action only if both allowed it (service._both_days)."""
    unmet = judge(at).unmet
    if at >= now - SKEW:
        return unmet
    seen = {u.sentence for u in unmet}
    return unmet + tuple(replace(u, sentence=f"When recorded ({to_text(now)}): {u.sentence}")
                         for u in judge(now).unmet if u.sentence not in seen)


def _timing(definition: Definition, record: _Record | None, action: str, at: datetime,
            now: datetime) -> list[Unmet]:
    """The dates the service refuses before judging (units.when, service._backdating and the floors it checks)."""
    found = []
    if at > now + SKEW:
        found.append(Unmet("timing", f"it is dated {to_text(at)}, after it was recorded ({to_text(now)})"))
    elif at < now - SKEW and now - at > timedelta(days=definition.backdate_days):
        found.append(Unmet("timing", f"it is back-dated by more than the {definition.backdate_days} days "
                                      f"{definition.name} allows (recorded {to_text(now)})"))
    if record is not None:
        floor, what = ((record.state_entered_at, f"entered {record.state!r}") if action == "move"
                       else (record.opened_at, "was opened"))
        if floor is not None and at < floor:
            found.append(Unmet("timing", f"it is dated before the case {what} ({to_text(floor)})"))
    return found


class _Replayer:
    """The cases and staff as the log made them so far, each case action judged before it is applied."""

    def __init__(self, cw: Casework, conn: Connection, only: str | None):
        self.cw, self.conn, self.only = cw, conn, only
        self.staff: dict[str, Staff] = {}
        self.cases: dict[str, _Record] = {}
        #: person → state → how many cases they hold as lead or worker in that state (records.count_held)
        self.held: dict[str, Counter[str]] = {}
        self.found: list[Discrepancy] = []
        self.entries = self.judged = self.refused = 0
        self._named: dict[tuple[str, str], str] = {}

    def feed(self, e: dict[str, Any]) -> None:
        self.entries += 1
        if e["chain"] == "staff" and e["action"] == "staff":
            try:
                self.staff[e["payload"]["id"]] = staff_from_row(e["payload"])
            except _UNREADABLE as exc:
                if self.only is None:
                    self._report(e, [_cannot(f"the staff change cannot be read ({exc!r})")])
        elif e["chain"].startswith("case:"):
            self._case_entry(e)

    def _case_entry(self, e: dict[str, Any]) -> None:
        judge = self.only in (None, e["case_id"])
        if e["action"] == "refused":
            self.refused += judge
            return
        self.judged += judge
        record = self.cases.get(e["case_id"])
        try:
            at, now = from_text(e["at"]), from_text(e["recorded_at"])
        except (TypeError, ValueError) as exc:
            found = [_cannot(f"its dates cannot be read ({exc})")]
        else:
            found = _attempt("", self._judge, e, record, at, now) if judge else []
            found += _attempt("the case cannot be replayed past it: ", self._apply, e, record, at)
        if judge and found:
            self._report(e, found)

    def _report(self, e: dict[str, Any], unmet: list[Unmet]) -> None:
        self.found.append(Discrepancy(e["chain"], e["case_id"], e["seq"], e["id"], e["action"], e["event"],
                                      e["actor"], e["at"], tuple(unmet)))

    # --- judging ---------------------------------------------------------------------------------------------

    def _judge(self, e: dict[str, Any], record: _Record | None, at: datetime, now: datetime) -> list[Unmet]:
        action, p = e["action"], e["payload"]
        if action not in audit.CHANGES:
            raise _Unjudgeable(f"casework writes no {action!r} entry on a case's chain")
        if action == "open":
            return self._judge_open(e, record, at, now)
        if record is None:
            raise _Unjudgeable(f"no entry opens case {e['case_id']} before it")
        if action == "migrate":
            return self._judge_migration(e, record, at, now)
        definition, found = self._version(e, record.policy, p.get("pinned") or record.digest)
        found += self._against(definition, e, record, at, now)
        actor, case = self._person(e["actor"]), record.as_case(self.staff)
        if action == "move":
            engine = self.cw.engine(definition)
            found += _on_both_days(lambda day: engine.explain(case, e["event"], actor, day, p.get("reason")), at, now)
            target = definition.events[e["event"]].to
            if e["to_state"] != target:
                found.append(Unmet("recorded", f"it records the move to {e['to_state']!r}; {label(definition)} "
                                                f"moves '{e['event']}' to {target!r}"))
        elif action == "fact":
            others = tuple(self._person(w) for w in p.get("with", []))
            found += _on_both_days(lambda day: explain_record(definition, case, e["event"], actor, day,
                                                              p.get("note", ""), others), at, now)
        elif action == "transfer":
            found += _on_both_days(lambda day: explain_transfer(definition, case, actor, day, p.get("to_team", ""),
                                                                p.get("reason")), at, now)
        else:
            found += self._judge_allocation(definition, record, case, actor, p, at, now)
        return found

    def _judge_open(self, e: dict[str, Any], record: _Record | None, at: datetime, now: datetime) -> list[Unmet]:
        """The person opening it was on the staff list, in a version in effect that day, in its first state."""
        if record is not None:
            return [Unmet("recorded", f"case {e['case_id']} was opened already, by entry 1 of its chain")]
        definition, found = self._version(e, e["policy"], e["payload"].get("digest"))
        self._person(e["actor"])
        if e["to_state"] != definition.initial:
            found.append(Unmet("recorded", f"it opens the case in {e['to_state']!r}; {label(definition)} "
                                            f"opens cases in {definition.initial!r}"))
        if not definition.in_effect_on(day_of(at)):
            found.append(Unmet("version", f"{label(definition)} was not in effect on {day_of(at)}, when the case "
                                          f"was opened"))
        return found + _timing(definition, None, "open", at, now)

    def _judge_migration(self, e: dict[str, Any], record: _Record, at: datetime, now: datetime) -> list[Unmet]:
        """As version_actions judged it: an open case, moved by someone who may allocate under the new version,
        whose holders the new version allows on the state the plan maps it to."""
        target, found = self._version(e, record.policy, e["payload"].get("to"))
        source = self.cw.versions.of(self.conn, record.policy, record.digest)
        found += self._against(source, e, record, at, now)
        if not source.states[record.state].open:
            found.append(Unmet("recorded", f"casework migrates open cases only; {record.state!r} is closed"))
        plan = MigrationPlan({record.state: e["to_state"]}, dict(e["payload"].get("events", {})),
                             dict(e["payload"].get("facts", {})))
        judged = judge_migration(record.as_case(self.staff), source, target, plan, self._person(e["actor"]), at)
        return found + list(judged.verdict.unmet)

    def _against(self, definition: Definition, e: dict[str, Any], record: _Record, at: datetime,
                 now: datetime) -> list[Unmet]:
        """Whether *e* was made on the case as its earlier entries left it, and dated as the service allows."""
        if record.state not in definition.states:
            raise _Unjudgeable(f"the case was in state {record.state!r}, which {label(definition)} does not have")
        found = _timing(definition, record, e["action"], at, now)
        if e["from_state"] != record.state:
            found.append(Unmet("recorded", f"it records the case in {e['from_state']!r}; its earlier entries "
                                            f"left it in {record.state!r}"))
        return found

    def _judge_allocation(self, definition: Definition, record: _Record, case: Case, actor: Staff,
                          p: dict[str, Any], at: datetime, now: datetime) -> tuple[Unmet, ...]:
        """As service.allocate judged it: the lead's and worker's caseloads counted over every case, this one aside."""
        open_states = frozenset(s for s, spec in definition.states.items() if spec.open)
        lead = self._holding(self._person(p.get("lead_id")), open_states, record)
        supervisor = self._person(p["supervisor_id"]) if p.get("supervisor_id") else None
        worker = self._holding(self._person(p["worker_id"]), open_states, record) if p.get("worker_id") else None
        return _on_both_days(lambda day: explain_allocation(definition, case, actor, day, lead, supervisor, worker,
                                                            p.get("reason")), at, now)

    def _holding(self, person: Staff, open_states: frozenset[str], record: _Record) -> Staff:
        held = sum(n for state, n in self.held.get(person.id, {}).items() if state in open_states)
        if person.id in record.holders() and record.state in open_states:
            held -= 1
        return replace(person, caseload=held)

    def _person(self, staff_id: str | None) -> Staff:
        if staff_id not in self.staff:
            raise _Unjudgeable(f"it names {staff_id!r}, who was not on the staff list when it was written")
        return self.staff[staff_id]

    def _version(self, e: dict[str, Any], policy: str, digest: str | None) -> tuple[Definition, list[Unmet]]:
        """The version *digest* (the case's pin, or the one *e* pins or migrates it to; for a case from before
        versions were kept, the one *e*'s policy_version names), and whether *e* names that version."""
        named = (e["policy_version"] or "").rpartition("@")[2]
        definition = self.cw.versions.of(self.conn, policy, digest or self._digest_named(policy, named))
        if named == definition.digest[:12]:
            return definition, []
        return definition, [Unmet("recorded", f"it names version {e['policy_version']!r} of {policy}; the case "
                                               f"was pinned to {label(definition)}")]

    def _digest_named(self, policy: str, prefix: str) -> str:
        """The full digest of the version of *policy* whose digest starts with *prefix*, kept or on offer."""
        if (policy, prefix) not in self._named:
            kept = [d["digest"] for d in records.list_definitions(self.conn, policy)]
            try:
                kept += [d.digest for d in self.cw.policies.versions_of(policy)]
            except CaseworkError:
                pass  # the files no longer hold the protocol: only the store's versions can be the one
            found = [d for d in kept if prefix and d.startswith(prefix)]
            if not found:
                raise VersionUnavailable(f"its version of {policy} ({prefix or 'none named'}) is neither kept in "
                                         f"the store nor in the files on offer")
            self._named[(policy, prefix)] = found[0]
        return self._named[(policy, prefix)]

    # --- applying (as workflow.projections.derive does) -----------------------------------------------------

    def _apply(self, e: dict[str, Any], record: _Record | None, at: datetime) -> None:
        action, p = e["action"], e["payload"]
        if action == "open":
            if record is not None:
                self._hold(record, -1)
            record = self.cases[e["case_id"]] = _Record(e["case_id"], e["policy"], p["team"], e["to_state"], at,
                                                        p.get("digest"), state_entered_at=at)
            record.mark(f"entered:{record.state}", at)
            return
        if record is None or action not in audit.CHANGES:
            return
        record.version += 1
        record.digest = p.get("pinned") or record.digest
        if action == "move":
            record.mark(f"event:{e['event']}", at)
            if e["to_state"] != record.state:
                self._enter(record, e["to_state"])
                record.state_entered_at = at
                record.mark(f"entered:{record.state}", at)
        elif action == "fact":
            record.facts.append((e["event"], at, e["actor"], tuple(p.get("with", ())), p.get("note", ""),
                                 e["from_state"]))
            record.mark(f"fact:{e['event']}", at)
        elif action == "migrate":  # the state keeps its entry time under its new name; facts take the plan's
            record.digest = p["to"]
            names = p.get("facts", {})
            record.facts = [(names.get(f[0], f[0]), *f[1:]) for f in record.facts]
            plan = MigrationPlan(events=dict(p.get("events", {})), facts=dict(names))
            for marker, when in plan.renamed_markers(record.markers).items():
                record.mark(marker, when)
            if e["to_state"] != record.state:
                entered = record.markers.get(f"entered:{record.state}", record.state_entered_at or at)
                self._enter(record, e["to_state"])
                record.mark(f"entered:{record.state}", entered)
        elif action == "transfer":
            record.team = p["to_team"]
        elif action == "allocate":
            self._hold(record, -1)
            if record.lead is not None and record.lead != p["lead_id"]:
                record.previous_lead = record.lead
            record.lead, record.supervisor, record.worker = p["lead_id"], p["supervisor_id"], p["worker_id"]
            record.leads.append(p["lead_id"])
            record.allocations.append((at, p["lead_id"], p["supervisor_id"], p["worker_id"]))
            record.allocated_at = at
            record.mark("event:allocate", at)
            self._hold(record, +1)

    def _enter(self, record: _Record, state: str) -> None:
        """Put the case in *state*, and its holders' caseloads with it."""
        self._hold(record, -1)
        record.state = state
        self._hold(record, +1)

    def _hold(self, record: _Record, sign: int) -> None:
        for person in record.holders():
            self.held.setdefault(person, Counter())[record.state] += sign
