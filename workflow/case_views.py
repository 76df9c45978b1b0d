"""What a case looks like to the people reading it: its summary, history and picture (the service's reads)."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from casework.store import Connection, audit, records

from .clock import day_of, to_text
from .deadlines import due_for_case
from ..errors import CaseNotFound, CaseworkError, UnknownState
from .hydrate import load_case, load_staff
from .team_names import checked_team
from .people import Case, Staff, holder_roles
from .safeguards import (conditions_lapsed, cp_lead_not_registered, holders_who_left, newer_version, unjudged,
                         version_ended)
from . import history_words, versions
from .workspace import Casework

if TYPE_CHECKING:  # pragma: no cover
    from .definition import Definition


__all__ = ["show_case", "case_history", "list_cases", "summary", "StateTitles"]


def _person(staff: Staff | None) -> dict[str, Any] | None:
    if staff is None:
        return None
    return {"id": staff.id, "name": staff.name, "roles": sorted(staff.roles), "team": staff.team,
            "registration": staff.registration}


def show_case(cw: Casework, case_id: str) -> dict[str, Any]:
    """Where the case stands: state, policy and version, who holds it, recorded facts and what is due.

    A case whose version cannot be read, or whose state its version does not have, is still shown,
    with a 'cannot_judge' item that says why."""
    with cw.store.read() as conn:
        case = load_case(conn, case_id)
        try:
            definition: Definition | str = cw.versions.of(conn, case.policy, case.policy_digest)
        except CaseworkError as exc:
            definition = f"its protocol version cannot be read: {exc}"
        ended = None if isinstance(definition, str) or definition.states.get(case.state) is None or \
            definition.states[case.state].open else _how_it_ended(conn, case_id, definition)
    shown = summary(cw, case, definition)
    return {**shown, "closure": ended} if ended else shown


def _how_it_ended(conn: Connection, case_id: str, definition: "Definition") -> dict[str, Any] | None:
    """The move that ended a case: when, by whom, its closure reason's code (if `case close` made it) and reason."""
    moves = [e for e in audit.entries(conn, f"case:{case_id}") if e["action"] == "move"]
    if not moves:
        return None
    last = moves[-1]
    staff = records.get_staff(conn, last["actor"])
    words = history_words.entry_words(last, definition, {last["actor"]: staff["name"]} if staff else {})
    return {"event": last["event"], "at": last["at"], "by": words["actor"], "what": words["what"],
            "closure_reason": last["payload"].get("closure_reason"), "reason": last["payload"].get("reason")}


def summary(cw: Casework, case: Case, definition: "Definition | str", today: date | None = None) -> dict[str, Any]:
    today = today or day_of(cw.clock())
    if isinstance(definition, str) or case.state not in definition.states:
        why = definition if isinstance(definition, str) else \
            f"its state {case.state!r} is not one of {versions.label(definition)}'s"
        opened = case.opened_at.date() if case.opened_at else today
        state_title, path, is_open, due = None, None, None, [unjudged(case.id, case.team, opened, why)]
        label = None if isinstance(definition, str) else versions.label(definition)
    else:
        state = definition.states[case.state]
        state_title, path, is_open, label = state.title, state.path, state.open, versions.label(definition)
        due = due_for_case(case.id, case.team, case.state, case.markers, definition.deadlines,
                           definition.calendar_of, today, holder_roles(case))
        flag = cp_lead_not_registered(case.id, case.team, case.state, case.lead, definition, today)
        ended = version_ended(case.id, case.team, definition, today)
        newer = newer_version(case.id, case.team, definition, cw.versions.opening_or_none(case.policy, today), today)
        due += [i for i in (flag, ended, newer) if i is not None]
        due += holders_who_left(case.id, case.team, case.holders(), definition, today)
        due += conditions_lapsed(case, definition, today)
    return {
        "id": case.id, "policy": case.policy, "protocol_version": label, "team": case.team, "state": case.state,
        "state_title": state_title, "path": path, "open": is_open, "version": case.version,
        "opened_at": to_text(case.opened_at) if case.opened_at else None,
        "state_entered_at": to_text(case.state_entered_at) if case.state_entered_at else None,
        "lead": _person(case.lead), "supervisor": _person(case.supervisor), "worker": _person(case.worker),
        "facts": [{"name": f.name, "at": to_text(f.at), "by": f.by.id, "with": [w.id for w in f.with_staff],
                   "note": f.note, "state": f.state, "title": _fact_title(definition, f.name), "by_name": f.by.name,
                   "with_names": [w.name or w.id for w in f.with_staff], "supervision": is_supervision(f.name)}
                  for f in case.facts],
        "due": [i.to_dict() for i in sorted(due, key=lambda i: (i.due, i.name))],
    }


def is_supervision(fact: str) -> bool:
    """Whether a fact is a supervision record: every shipped protocol names them 'supervision' or '…_supervision'
    (national's, Derbyshire's 'ps_supervision', Stockport's 'student_supervision')."""
    return fact == "supervision" or fact.endswith("_supervision")


def _fact_title(definition: "Definition | str", fact: str) -> str | None:
    spec = None if isinstance(definition, str) else definition.facts.get(fact)
    return spec.title if spec is not None and spec.title else None


def case_history(cw: Casework, case_id: str, *, words: bool = False) -> list[dict[str, Any]]:
    """The case's audit entries, oldest first, including refused attempts; with *words*, each also carries
    ``words``: what it did and who did it, in titles and names (workflow.history_words), for people to read."""
    with cw.store.read() as conn:
        row = records.get_case(conn, case_id)
        if row is None:
            raise CaseNotFound(case_id)
        entries = audit.entries(conn, f"case:{case_id}")
        if not words:
            return entries
        try:
            definition: Definition | None = cw.versions.of(conn, row["policy"], row["policy_digest"])
        except CaseworkError:
            definition = None
        people = {i for e in entries for i in history_words.people_named(e)}
        names = {s["id"]: s["name"] for s in records.staff_by_ids(conn, people).values()}
    return [{**e, "words": history_words.entry_words(e, definition, names)} for e in entries]


def list_cases(cw: Casework, state: str | None = None, team: str | None = None, *, lead: str | None = None,
               supervisor: str | None = None, worker: str | None = None) -> list[dict[str, Any]]:
    """Cases with their state, policy, team and holders; with *lead*, *supervisor* or *worker*, only the cases that
    person holds in that place (read through its index, so a caseload costs its own size)."""
    with cw.store.read() as conn:
        held = [(slot, _staff_id(conn, who)) for slot, who in (("lead_id", lead), ("supervisor_id", supervisor),
                                                                ("worker_id", worker)) if who]
        team = checked_team(conn, team)  # a mistyped team is refused, not listed as empty
        state = _checked_state(cw, conn, state)  # and so is a mistyped state
        if not held:
            rows = [dict(r) for r in records.list_cases(conn, state=state, team=team)]
        else:
            slot, who = held[0]
            rows = [r for r in map(dict, records.cases_held_as(conn, slot, who))
                    if all(r[s] == w for s, w in held) and (state is None or r["state"] == state)
                    and (team is None or r["team"] == team)]
        titles = StateTitles(cw, conn)
        return [{**r, "state_title": titles.of(r)} for r in rows]


def _staff_id(conn: Connection, who: str) -> str:
    """The id of the person *who* names: their id, or else their name (any case) when one person has it;
    StaffNotFound, with the nearest ids, otherwise."""
    if records.get_staff(conn, who) is None:
        named = [str(s["id"]) for s in records.all_staff(conn) if (s["name"] or "").casefold() == who.casefold()]
        if len(named) == 1:
            return named[0]
        load_staff(conn, who)  # raises StaffNotFound
    return who


def _checked_state(cw: Casework, conn: Connection, state: str | None) -> str | None:
    """*state* if some version a case may run under has it; a state's title (any case) is taken for its name;
    anything else is UnknownState, with the nearest names."""
    if state is None:
        return None
    known = cw.versions.known(conn)
    if any(state in d.states for d in known):
        return state
    titled = {s.title.casefold(): name for d in known for name, s in d.states.items() if s.title}
    if state.casefold() in titled:
        return titled[state.casefold()]
    raise UnknownState(state, sorted({name for d in known for name in d.states}),
                       "(a state's name or title, as `casework policy show` lists them)")


class StateTitles:
    """The title of each listed case's state, from the version it runs under (its id when that cannot be read)."""

    def __init__(self, cw: Casework, conn: Connection):
        self._cw, self._conn = cw, conn
        self._known: dict[tuple[str, str | None], Definition | None] = {}

    def of(self, row: dict[str, Any]) -> str:
        key = (row["policy"], row.get("policy_digest"))
        if key not in self._known:
            try:
                self._known[key] = self._cw.versions.of(self._conn, *key)
            except CaseworkError:
                self._known[key] = None
        found = self._known[key]
        spec = found.states.get(row["state"]) if found is not None else None
        return spec.title if spec is not None and spec.title else row["state"]
