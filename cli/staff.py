"""`casework staff ...`: the people who may act on cases."""
from __future__ import annotations

import click

from .app import State, emit_json, pass_state
from .options import Day, json_option
from .output import table

__all__ = ["staff"]


@click.group()
def staff() -> None:
    """Add and list staff."""


@staff.command()
@click.argument("staff_id", metavar="ID")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE",
              help="Role identifier from DOMAIN.md (repeatable), e.g. social_worker.")
@click.option("--registered", "registration", metavar="SWE_NO", help="Social Work England registration number.")
@click.option("--registered-until", type=Day(), help="Last day the registration is current.")
@click.option("--team")
@click.option("--pcf-level", type=click.IntRange(1, 9), help="Professional Capabilities Framework level.")
@click.option("--training", multiple=True, metavar="NAME", help="Completed training (repeatable).")
@click.option("--as", "actor", default="admin", show_default=True, metavar="STAFF", help="Who makes the change.")
@json_option
@pass_state
def add(state: State, staff_id: str, name: str, roles: tuple[str, ...], registration: str | None,
        registered_until, team: str | None, pcf_level: int | None, training: tuple[str, ...], actor: str,
        as_json: bool) -> None:
    """Add staff member ID."""
    from workflow import service

    person = service.add_staff(state.cw, staff_id, name, roles, team=team, registration=registration,
                               registered_until=registered_until, pcf_level=pcf_level, training=training,
                               actor=actor)
    if as_json:
        emit_json(_row(person))
    else:
        click.echo(f"Added {person.label}.")


def _row(p) -> dict:
    return {"id": p.id, "name": p.name, "roles": sorted(p.roles), "team": p.team, "registration": p.registration,
            "registered_until": p.registered_until.isoformat() if p.registered_until else None,
            "pcf_level": p.pcf_level, "training": sorted(p.training)}


@staff.command("list")
@json_option
@pass_state
def list_(state: State, as_json: bool) -> None:
    """List staff."""
    from workflow import service

    people = [_row(p) for p in service.list_staff(state.cw)]
    if as_json:
        emit_json(people)
    else:
        click.echo(table([[p["id"], p["name"], ", ".join(p["roles"]), p["team"] or "-", p["registration"] or "-",
                           p["registered_until"] or "-"] for p in people],
                         ["id", "name", "roles", "team", "registration", "until"]))
