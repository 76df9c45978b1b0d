"""What is due or overdue across open cases, and who must act: the managers' and auditors' view."""
from __future__ import annotations

from datetime import date
from store import records

from .clock import day_of, from_text
from .deadlines import DueItem, due_for_case
from .errors import BadInput
from .hydrate import staff_from_row
from .safeguards import cp_lead_not_registered, holders_who_left
from .requirements.base import FIRST_DAY, LAST_DAY
from .workspace import Casework

__all__ = ["due_items"]


def due_items(cw: Casework, as_of: date | None = None, *, overdue_only: bool = False, team: str | None = None,
              staff: str | None = None) -> list[DueItem]:
    """Every open item of every open case, most urgent first; cost grows with open cases only."""
    as_of = as_of or day_of(cw.clock())
    if not FIRST_DAY <= as_of <= LAST_DAY:
        raise BadInput(f"{as_of} is outside the dates casework keeps ({FIRST_DAY} to {LAST_DAY}).")
    definitions = {name: cw.policies.get(name) for name in cw.policies.names()}
    open_states = sorted({s for d in definitions.values() for s, spec in d.states.items() if spec.open})
    with cw.store.read() as conn:
        cases, markers = records.open_case_markers(conn, open_states, team)
        people = {s["id"]: staff_from_row(s) for s in records.all_staff(conn)}
    roles = {sid: person.roles for sid, person in people.items()}
    items: list[DueItem] = []
    for case in cases:
        d = definitions.get(case["policy"])
        if d is None or not d.states[case["state"]].open:
            continue
        if staff and staff not in (case["lead_id"], case["supervisor_id"], case["worker_id"]):
            continue
        found = {k: from_text(v) for k, v in markers[case["id"]].items()}
        holders = roles.get(case["lead_id"], frozenset()) | roles.get(case["worker_id"], frozenset())
        items += due_for_case(case["id"], case["team"], case["state"], found, d.deadlines, d.calendar_of, as_of, holders)
        flag = cp_lead_not_registered(case["id"], case["team"], case["state"], people.get(case["lead_id"]), d, as_of)
        if flag is not None:
            items.append(flag)
        items += holders_who_left(case["id"], case["team"], {slot: people.get(case[f"{slot}_id"]) for slot in
                                                             ("lead", "supervisor", "worker")}, d, as_of)
    if overdue_only:
        items = [i for i in items if i.overdue]
    return sorted(items, key=lambda i: (i.working_days_left, i.due, i.case_id, i.name))
