"""`casework staff ...`: the people who may act on cases, changed under the staff protocol's rules."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from .app import State, emit, emit_json, pass_state
from .options import Day, as_option, json_option
from .output import day_text, staff_text, table

if TYPE_CHECKING:
    from casework.workflow.people import Staff

__all__ = ["staff"]

_REASON = click.option("--reason", help="Why (kept in the audit entry).")


@click.group()
def staff() -> None:
    """Add, change, list and record leavers; every change is judged and audited like a case move."""


@staff.command()
@click.argument("staff_id", metavar="ID")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE",
              help="Role identifier (repeatable), e.g. social_worker: README, 'Role identifiers', lists them.")
@click.option("--registered", "registration", metavar="SWE_NO",
              help="Social Work England registration number ('SW' and digits).")
@click.option("--registered-until", type=Day(), help="Last day the registration is current.")
@click.option("--team")
@click.option("--pcf-level", type=click.IntRange(1, 9), help="Professional Capabilities Framework level.")
@click.option("--training", multiple=True, metavar="NAME", help="Completed training (repeatable).")
@click.option("--login", metavar="LOGIN", help="The database login that acts as this person on a shared store.")
@click.option("--as", "actor", metavar="STAFF",
              help="Who makes the change; omitted only for the first person on an empty staff list.")
@_REASON
@json_option
@pass_state
def add(state: State, staff_id: str, name: str, roles: tuple[str, ...], registration: str | None,
        registered_until: date | None, team: str | None, pcf_level: int | None, training: tuple[str, ...], login: str | None,
        actor: str | None, reason: str | None, as_json: bool) -> None:
    """Add staff member ID."""
    from casework.workflow import service

    person = service.add_staff(state.cw, staff_id, name, roles, team=team, registration=registration,
                               registered_until=registered_until, pcf_level=pcf_level, training=training,
                               login=login, actor=actor, reason=reason)
    emit(_row(person), as_json, lambda: f"Added {person.named} to the staff list, as {person.id}.")


@staff.command()
@click.argument("staff_id", metavar="ID")
@as_option
@click.option("--add-role", "add_roles", multiple=True, metavar="ROLE", help="Give a role (repeatable).")
@click.option("--remove-role", "remove_roles", multiple=True, metavar="ROLE", help="Take a role away (repeatable).")
@click.option("--team", help="Move them to this team.")
@click.option("--registered", "registration", metavar="SWE_NO", help="Record their Social Work England number.")
@click.option("--registered-until", type=Day(), help="Renew (a later day) or end (the last day) their registration.")
@click.option("--no-registration", is_flag=True, help="They are not registered (the number was recorded in error).")
@click.option("--pcf-level", type=click.IntRange(1, 9), help="Professional Capabilities Framework level.")
@click.option("--training", multiple=True, metavar="NAME", help="Their completed training, all of it (repeatable).")
@click.option("--login", metavar="LOGIN", help="Map this database login to them.")
@click.option("--no-login", is_flag=True, help="Remove their database login.")
@_REASON
@json_option
@pass_state
def update(state: State, staff_id: str, actor: str, add_roles: tuple[str, ...], remove_roles: tuple[str, ...],
           team: str | None, registration: str | None, registered_until: date | None, no_registration: bool,
           pcf_level: int | None, training: tuple[str, ...], login: str | None, no_login: bool,
           reason: str | None, as_json: bool) -> None:
    """Change staff member ID: roles, team, registration (renewal or lapse), PCF level, training or login."""
    from casework.workflow import service

    if no_registration and (registration or registered_until):
        raise click.UsageError("--no-registration cannot be given with --registered or --registered-until.")
    if no_login and login:
        raise click.UsageError("--no-login cannot be given with --login.")
    keep = service.KEEP
    person = service.update_staff(
        state.cw, staff_id, actor, add_roles=add_roles, remove_roles=remove_roles,
        team=team if team is not None else keep,
        registration=None if no_registration else (registration if registration is not None else keep),
        registered_until=registered_until if registered_until is not None else keep,
        pcf_level=pcf_level if pcf_level is not None else keep, training=training if training else keep,
        login=None if no_login else (login if login is not None else keep), reason=reason)
    emit(_row(person), as_json, lambda: f"Changed the record of {person.named}.")


@staff.command()
@click.argument("staff_id", metavar="ID")
@as_option
@click.option("--on", "on", type=Day(), help="The last day of their employment (default today).")
@_REASON
@json_option
@pass_state
def leave(state: State, staff_id: str, actor: str, on: date | None, reason: str | None, as_json: bool) -> None:
    """Record that staff member ID left; their open cases then show in 'due' as needing reallocation."""
    from casework.workflow import service

    person = service.leave_staff(state.cw, staff_id, actor, on=on, reason=reason)
    left = day_text(person.left_on, weekday=False) if person.left_on else "-"
    emit(_row(person), as_json, lambda: f"Recorded that {person.named} left on {left}; `casework due` lists the "
                                        f"cases they hold until they are reallocated.")


def _row(p: Staff) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "roles": sorted(p.roles), "team": p.team, "registration": p.registration,
            "registered_until": p.registered_until.isoformat() if p.registered_until else None,
            "pcf_level": p.pcf_level, "training": sorted(p.training), "login": p.login,
            "left_on": p.left_on.isoformat() if p.left_on else None}


@staff.command()
@click.argument("staff_id", metavar="ID")
@json_option
@pass_state
def show(state: State, staff_id: str, as_json: bool) -> None:
    """Staff member ID: roles, registration, team, whether social-work-qualified today, and the cases they hold."""
    from casework.workflow import service

    overview = service.show_staff(state.cw, staff_id)
    emit(overview.to_dict(), as_json, lambda: staff_text(overview.to_dict()))


@staff.command("list")
@json_option
@pass_state
def list_(state: State, as_json: bool) -> None:
    """List staff."""
    from casework.workflow import service

    people = [_row(p) for p in service.list_staff(state.cw)]
    if as_json:
        emit_json(people)
    else:
        from casework.workflow.roles import role_label

        click.echo(table([[p["id"], p["name"], ", ".join(map(role_label, p["roles"])), p["team"] or "-",
                           p["registration"] or "-",
                           p["registered_until"] or "-", p["left_on"] or "-"] for p in people],
                         ["id", "name", "roles", "team", "registration", "until", "left"]))
