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

__all__ = ["UNREGISTERED_CP_LEAD", "cp_lead_not_registered"]

#: the name such an item carries in ``due`` and ``case show``
UNREGISTERED_CP_LEAD = "cp_lead_not_registered"


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

