"""Changes to the staff list: add a person, change what the guards read about them, record that they left.

Each change is judged by the store's staff protocol (workflow.staffing) and written with its
audit entry on the staff chain in one unit of work; the staff chain is held while it is
written, so concurrent changes take turns. A refusal writes only its audited attempt.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from casework.store import Connection, audit, records

from . import due_dates, identity
from .clock import day_of, to_text
from ..errors import AlreadyExists, BadInput, CaseworkError, StaffChangeRefused, UnknownName
from .hydrate import load_staff, staff_from_row
from .people import Staff
from .requirements.base import FIRST_DAY, LAST_DAY
from .roles import ROLES
from .staffing import explain_staff_change, registration_number
from .team_names import checked_team
from .units import KEEP, policy_version, unit_of_work, when
from .verdict import Unmet
from .workspace import Casework

if TYPE_CHECKING:  # pragma: no cover
    from .definition import Definition

__all__ = ["add_staff", "update_staff", "leave_staff", "list_staff", "login_name", "staff_rules", "staff_rules_or_none"]


def login_name(login: str) -> str:
    """*login* if it is a database login name casework takes, else BadInput."""
    if not identity.LOGIN_NAME.match(login or ""):
        raise BadInput(f"{login!r} is not a database login name: letters, digits and _ . @ -, at most 63.")
    return login


def staff_rules(cw: Casework, conn: Connection) -> "Definition":
    """The definition whose ``staff:`` section governs this store's staff list: national, or the version of the
    staff protocol that ``init --staff-protocol`` kept in the store (a file of that name brought by whoever runs
    casework cannot stand in for it)."""
    name = records.get_setting(conn, "staff_protocol") or "national"
    return cw.versions.of(conn, name, records.get_setting(conn, "staff_protocol_digest"))


def staff_rules_or_none(cw: Casework, conn: Connection) -> "Definition | None":
    """The staff protocol's rules, or None when they cannot be read (audit verify then skips judging staff changes)."""
    try:
        return staff_rules(cw, conn)
    except CaseworkError:
        return None


def _staff_row(person: Staff, now: datetime) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "roles": sorted(person.roles), "team": person.team,
            "registration": person.registration,
            "registered_until": person.registered_until.isoformat() if person.registered_until else None,
            "pcf_level": person.pcf_level, "training": sorted(person.training), "login": person.login,
            "left_on": person.left_on.isoformat() if person.left_on else None, "updated_at": to_text(now)}


def _checked_person(person: Staff) -> Staff:
    if not person.roles:
        raise BadInput("Give at least one --role.")
    for role in person.roles:
        if role not in ROLES:
            raise UnknownName(role, ROLES, "(roles are the identifiers in DOMAIN.md)")
    if not isinstance(person.name, str) or not person.name.strip():
        raise BadInput("Give the person's name (--name).")
    if person.registered_until and not person.registration:
        raise BadInput("--registered-until needs --registered (the Social Work England number).")
    for day in (person.registered_until, person.left_on):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise BadInput(f"{day} is outside the dates casework keeps ({FIRST_DAY} to {LAST_DAY}).")
    return replace(person, registration=registration_number(person.registration),
                   login=login_name(person.login) if person.login is not None else None)


def _change_staff(cw: Casework, actor: str | None, staff_id: str, change: Callable[[Staff | None], Staff],
                  reason: str | None, adding: bool = False) -> Staff:
    """Judge and write one change to the staff list (a refusal writes only its audited attempt)."""
    now, _ = when(cw, None)
    with cw.store.write() as conn:
        records.lock_chain(conn, "staff")  # staff changes take turns, so their chain never forks
        row = records.get_staff(conn, staff_id)
        if row is None and not adding:
            load_staff(conn, staff_id)  # raises StaffNotFound with the closest ids
        before = staff_from_row(row) if row is not None else None
        after = _checked_person(change(before))
        if after.team is not None and after.team != (before.team if before else None):
            after = replace(after, team=checked_team(conn, after.team))
        first = before is None and actor is None and records.count_staff(conn) == 0
        if actor is None and not first:  # (below, actor is None only for the first person)
            raise BadInput("Say who makes the change (--as STAFF): only the first person on an empty staff list "
                           "is added without one.")
        acting = staff_id if first or actor is None else actor
        principal = identity.authenticate(conn, acting, cw.principal)
        if after.login is not None and any(i != staff_id for i in records.staff_with_login(conn, after.login)):
            raise AlreadyExists(f"The login {after.login!r} already acts as someone else; a login is one person's.")
        by = after if first else load_staff(conn, acting)
        rules = staff_rules(cw, conn)
        verdict = explain_staff_change(rules, by, before, after, now)
        entry: dict[str, Any] = {"recorded_at": to_text(now), "at": to_text(now), "actor": by.id,
                                 "principal": principal}
        if not verdict.allowed:
            audit.append(conn, "staff", **entry, action="refused", event=verdict.event,
                         payload={"id": staff_id, "verdict": verdict.to_dict(), "reason": reason})
        else:
            written = _staff_row(after, now)
            if before is None:
                records.insert_staff(conn, written)
            else:
                records.replace_staff(conn, written)
                if before.roles != after.roles:  # a deadline may run only while its holder has a role
                    due_dates.refresh_held_by(conn, cw, staff_id)
            audit.append(conn, "staff", **entry, action="staff", event="add" if before is None else verdict.event,
                         policy=rules.name, policy_version=policy_version(cw, rules.name),
                         payload={**written, "reason": reason, **({"first": True} if first else {})})
    if not verdict.allowed:
        if first:
            raise StaffChangeRefused(replace(verdict, unmet=verdict.unmet + (_first_person_hint(rules),)))
        raise StaffChangeRefused(verdict)
    return after


def _first_person_hint(rules: "Definition") -> Unmet:
    spec = rules.staff.add
    return Unmet("staff_first", "the first person on the staff list must be someone who may add the others",
                 spec.rules, f"Add {spec.who_text()} first.")


@unit_of_work
def add_staff(cw: Casework, staff_id: str, name: str, roles: Sequence[str], *, team: str | None = None,
              registration: str | None = None, registered_until: date | None = None,
              pcf_level: int | None = None, training: Iterable[str] = (), login: str | None = None,
              actor: str | None = None, reason: str | None = None) -> Staff:
    """Add a person, if *actor* may under the store's staff protocol (StaffChangeRefused otherwise).

    Registration (their Social Work England number, 'SW' and digits) is separate from roles. The
    first person on an empty staff list is added without an *actor* and must be someone who may
    add the others; the authenticated principal who added them is in the audit entry.
    """
    if not staff_id or not isinstance(staff_id, str) or len(staff_id) > 64:
        raise BadInput("Give the person an id of 1 to 64 characters.")

    def new(before: Staff | None) -> Staff:
        if before is not None:
            raise AlreadyExists(f"Staff member {staff_id!r} already exists; change their record with `casework "
                                f"staff update {staff_id} ... --as STAFF`.")
        return Staff(staff_id, name, frozenset(roles), team, registration, registered_until, pcf_level,
                     frozenset(training), login=login)

    return _change_staff(cw, actor, staff_id, new, reason, adding=True)


@unit_of_work
def update_staff(cw: Casework, staff_id: str, actor: str, *, add_roles: Sequence[str] = (),
                 remove_roles: Sequence[str] = (), team: str | None = KEEP, registration: str | None = KEEP,
                 registered_until: date | None = KEEP, pcf_level: int | None = KEEP,
                 training: Iterable[str] | None = KEEP, login: str | None = KEEP,
                 reason: str | None = None) -> Staff:
    """Change a person's roles, registration (record, renew, end: *registered_until*), team, PCF level,
    training or database login; each kind of change is judged by the staff protocol's rules.
    Arguments left as KEEP keep the current value; None clears it."""
    def changed(before: Staff | None) -> Staff:
        if before is None:  # pragma: no cover - _change_staff raised StaffNotFound already
            raise BadInput(f"No staff member {staff_id!r}.")
        values: dict[str, Any] = {"roles": (before.roles | set(add_roles)) - set(remove_roles)}
        for key, value in (("team", team), ("registration", registration), ("registered_until", registered_until),
                           ("pcf_level", pcf_level), ("login", login)):
            if value is not KEEP:
                values[key] = value
        if training is not KEEP:
            values["training"] = frozenset(training or ())
        if values.get("registration", before.registration) is None:
            values["registered_until"] = None
        return replace(before, **values)

    return _change_staff(cw, actor, staff_id, changed, reason)


@unit_of_work
def leave_staff(cw: Casework, staff_id: str, actor: str, *, on: date | None = None,
                reason: str | None = None) -> Staff:
    """Record the last day of a person's employment (default today): from the day after they can no
    longer act or be allocated, and the open cases they hold show in ``due`` as needing reallocation."""
    today = day_of(cw.clock())
    on = on or today

    def left(before: Staff | None) -> Staff:
        if before is None:  # pragma: no cover - _change_staff raised StaffNotFound already
            raise BadInput(f"No staff member {staff_id!r}.")
        window = cw.policies.get("national").backdate_days
        if not today - timedelta(days=window) <= on <= today + timedelta(days=366):
            raise BadInput(f"{on} is not a day a leaving date can be recorded for: from {window} days ago to a year "
                           f"ahead.")
        return replace(before, left_on=on)

    return _change_staff(cw, actor, staff_id, left, reason)


def list_staff(cw: Casework) -> list[Staff]:
    """Everyone on the staff list."""
    with cw.store.read() as conn:
        return [staff_from_row(r) for r in records.all_staff(conn)]
