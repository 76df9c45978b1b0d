"""Standing safeguards: conditions that must keep holding while a case is held, flagged where managers look.

A verdict checks WT-5 when someone acts; but a lead's registration can lapse while the
case sits on the child protection path with nobody acting. ``due`` and ``case show``
therefore list such a case as overdue for reallocation from the day after the lapse.
"""
from __future__ import annotations

from datetime import date, timedelta

from .calendar import calendar_for
from .deadlines import DueItem
from .definition import Definition
from .people import Staff
from .requirements import clauses_phrase

__all__ = ["UNREGISTERED_CP_LEAD", "HOLDER_LEFT", "UNJUDGED", "VERSION_ENDED", "cp_lead_not_registered",
           "NEWER_VERSION", "holders_who_left", "unjudged", "version_ended", "newer_version"]

#: the name such an item carries in ``due`` and ``case show``
UNREGISTERED_CP_LEAD = "cp_lead_not_registered"
#: the name of the item for a case still held by someone who has left
HOLDER_LEFT = "holder_left"
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
                   f"A newer version applies to new cases: {current.name} v{current.version} (this case runs under "
                   f"v{definition.version}); migrate it with 'casework policy migrate {current.name} --to "
                   f"{current.version}'", current.effective_from or as_of, 0, False, (),
                   "a practice lead (casework policy migrate)", team)
