"""Standing safeguards: conditions that must keep holding while a case is held, flagged where managers look.

A verdict checks WT-5 when someone acts; but a lead's registration can lapse while the
case sits on the child protection path with nobody acting. ``due`` and ``case show``
therefore list such a case as overdue for reallocation from the day after the lapse.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from .calendar import calendar_for
from .clock import LONDON, day_of
from .deadlines import DueItem
from .definition import Definition, HolderPolicy
from .people import Case, Staff
from .requirements import Context, clauses_phrase
from .verdict import Unmet

__all__ = ["UNREGISTERED_CP_LEAD", "HOLDER_LEFT", "UNJUDGED", "VERSION_ENDED", "cp_lead_not_registered",
           "NEWER_VERSION", "HOLDER_CONDITION", "keeps_at_stake", "conditions_lapsed", "holders_who_left", "unjudged",
           "version_ended", "newer_version"]

#: the name such an item carries in ``due`` and ``case show``
UNREGISTERED_CP_LEAD = "cp_lead_not_registered"
#: the name of the item for a case still held by someone who has left
HOLDER_LEFT = "holder_left"
#: the name of the item for a case whose holder no longer meets a condition that must keep holding
HOLDER_CONDITION = "holder_condition"
#: the name of the item for a case whose protocol version cannot be judged
UNJUDGED = "cannot_judge"
#: the name of the item for an open case still on a version whose trial or pilot has ended
VERSION_ENDED = "version_ended"
#: the name of the item for an open case on an older version than the one new cases open under
NEWER_VERSION = "newer_version"


def cp_lead_not_registered(case_id: str, team: str, state: str, lead: Staff | None, definition: Definition,
                           as_of: date) -> DueItem | None:
    """An overdue item when *lead* holds a child protection case without being registered on *as_of* (WT-5)."""
    if definition.states[state].path != "cp" or lead is None or lead.qualified_on(as_of):
        return None
    since = lead.registered_until + timedelta(days=1) if lead.registered_until else as_of
    late = calendar_for().working_days_between(since, as_of)  # England's working days, as WT-6 counts them
    return DueItem(case_id, UNREGISTERED_CP_LEAD,
                   f"Reallocate to a registered social worker: {lead.label} leads a child protection case "
                   f"without a current registration", since, -late, True, ("WT-5",),
                   clauses_phrase(definition.allocation.who), team)



def holders_who_left(case_id: str, team: str, holders: dict[str, Staff | None], definition: Definition,
                     as_of: date) -> list[DueItem]:
    """An item for each holder (``{'lead': ..., 'supervisor': ..., 'worker': ...}``) whose employment ended
    before *as_of*: the case needs reallocating from the day after they left (WT-1 for the lead)."""
    items = []
    for slot, person in holders.items():
        if person is None or person.left_on is None or person.active_on(as_of):
            continue
        since = person.left_on + timedelta(days=1)
        late = calendar_for().working_days_between(since, as_of)
        items.append(DueItem(case_id, f"{HOLDER_LEFT}:{slot}",
                             f"Reallocate: {person.label}, the case's {slot}, left on {person.left_on}",
                             since, -late, True, ("WT-1",) if slot == "lead" else (),
                             clauses_phrase(definition.allocation.who), team))
    return items


def unjudged(case_id: str, team: str, opened: date, why: str) -> DueItem:
    """An overdue item for a case casework cannot judge (its version unreadable, its state unknown to it): such a
    case is listed with the reason, never left out."""
    return DueItem(case_id, UNJUDGED, f"Cannot be judged: {why}. Ask whoever keeps the protocols.", opened, 0,
                   True, (), "the protocol's owner", team)


def version_ended(case_id: str, team: str, definition: Definition, as_of: date) -> DueItem | None:
    """An overdue item when the case's version stopped being in effect before *as_of* (a trial's end): a
    practice lead migrates it to the version that follows."""
    until = definition.effective_until
    if until is None or as_of <= until:
        return None
    since = until + timedelta(days=1)
    return DueItem(case_id, VERSION_ENDED,
                   f"Migrate to the current version: the case runs under {definition.name} v{definition.version}, "
                   f"which ended on {until}", since, -calendar_for().working_days_between(since, as_of), True, (),
                   "a practice lead (casework policy migrate)", team)


def newer_version(case_id: str, team: str, definition: Definition, current: Definition | None,
                  as_of: date) -> DueItem | None:
    """An item (not overdue) when new cases of the protocol open under another version than this case's, and
    this case's has not ended (version_ended says that): a practice lead decides when to migrate it."""
    if current is None or current.digest == definition.digest or version_ended(case_id, team, definition, as_of):
        return None
    return DueItem(case_id, NEWER_VERSION,
                   f"A newer version applies to new cases: {current.name} v{current.version} ({current.digest[:12]}; "
                   f"this case runs under v{definition.version}, {definition.digest[:12]}); migrate it with "
                   f"'casework policy migrate {current.name} --to {current.version}'",
                   max(current.effective_from or as_of, as_of), 0, False, (),
                   "a practice lead (casework policy migrate)", team)


def keeps_at_stake(definition: Definition, state: str, roles_of: dict[str, frozenset[str]]) -> bool:
    """Whether a holder (slot → roles) holds under a policy with conditions that must keep holding: only such
    cases need reading whole for :func:`conditions_lapsed`."""
    if not definition.states[state].open:
        return False
    alloc = definition.allocation
    return any(p.keeps for slot, policies in (("lead", alloc.leads), ("worker", alloc.workers))
               for p in policies if roles_of.get(slot, frozenset()) & set(p.roles))


def conditions_lapsed(case: Case, definition: Definition, as_of: date) -> list[DueItem]:
    """An overdue item for each holder whose policy's ``keeps`` conditions no longer hold on *as_of*: the case
    needs reallocating or reviewing from the day they stopped holding (e.g. TOR-9, an escalation not yet
    considered). A holder fitting several policies is at stake only if every one of them fails."""
    state = definition.states.get(case.state)
    if state is None or not state.open:
        return []
    alloc = definition.allocation
    items = []
    for slot, person, policies in (("lead", case.lead, alloc.leads), ("worker", case.worker, alloc.workers)):
        if person is None:
            continue
        fitting = [p for p in policies if person.roles & set(p.roles) and state.path in p.paths]
        if not fitting or any(not p.keeps for p in fitting):
            continue
        failed = [_lapsed(case, slot, person, p, definition, as_of) for p in fitting]
        if any(f is None for f in failed):
            continue
        since, unmet = min((f for f in failed if f is not None), key=lambda f: f[0])
        late = calendar_for().working_days_between(since, as_of)
        rules = tuple(dict.fromkeys(r for u in unmet for r in u.rules))
        items.append(DueItem(case.id, f"{HOLDER_CONDITION}:{slot}",
                             f"Reallocate or review: {person.label}, the case's {slot}, no longer meets: "
                             + "; ".join(u.sentence for u in unmet), since, -late, True, rules,
                             clauses_phrase(alloc.who), case.team))
    return items


def _lapsed(case: Case, slot: str, person: Staff, policy: HolderPolicy, definition: Definition,
            as_of: date) -> tuple[date, list[Unmet]] | None:
    """None if *policy*'s conditions hold on *as_of*, else the first day of the spell, still running on *as_of*,
    in which they have not held, and what fails.

    Only what happened by the end of *as_of* counts. The conditions are judged at each moment something happened
    on the case since the holder took it (its facts, markers and changes of hands): the spell starts at the first
    such moment after the last one at which they held; if they held at the last moment, they stopped with the
    passing of days, found by bisection."""
    end = datetime.combine(as_of, time(23, 59, 59), tzinfo=LONDON)

    entered = sorted((at, marker.split(":", 1)[1]) for marker, at in case.markers.items()
                     if marker.startswith("entered:") and marker.split(":", 1)[1] in definition.states)

    def failing(moment: datetime) -> list[Unmet]:
        # the case as it stood then: the state it had last entered by that moment (markers keep the latest entry)
        then = [(at, state) for at, state in entered if at <= moment]
        stood = replace(case, state=then[-1][1], state_entered_at=then[-1][0]) if then else case
        ctx = Context(stood, case.lead or person, moment, day_of(moment), definition)
        return [u for r in policy.keeps if (u := r.unmet(ctx)) is not None]

    unmet = failing(end)
    if not unmet:
        return None
    start = case.holder_since.get(slot)
    moments = sorted({m for m in (*case.markers.values(), *(f.at for f in case.facts), *case.holder_since.values())
                      if m <= end and (start is None or m >= start)})
    first_failing: datetime | None = None
    for moment in reversed(moments):
        if not failing(moment):
            break
        first_failing = moment
    else:
        return (day_of(moments[0]) if moments else as_of), unmet
    if first_failing is not None:
        return day_of(first_failing), unmet
    low = day_of(moments[-1])  # held on its last moment: it stopped on a later day
    high = as_of

    def fails_on(day: date) -> bool:
        return bool(failing(datetime.combine(day, time(23, 59, 59), tzinfo=LONDON)))

    while (high - low).days > 1:
        middle = low + timedelta(days=(high - low).days // 2)
        low, high = (low, middle) if fails_on(middle) else (middle, high)
    return high, unmet
