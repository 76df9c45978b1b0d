"""`casework team ...`: the teams a store declares, so that a mistyped team is refused rather than made."""
from __future__ import annotations

import click

from .app import State, emit, pass_state
from .options import as_option, json_option
from .output import table

__all__ = ["team"]


@click.group()
def team() -> None:
    """Declare and list the store's teams (once one is declared, cases and staff must use them)."""


@team.command()
@click.argument("name")
@as_option
@click.option("--reason", help="Why (kept in the audit entry).")
@json_option
@pass_state
def add(state: State, name: str, actor: str, reason: str | None, as_json: bool) -> None:
    """Declare team NAME (by someone who may move staff between teams)."""
    from casework.workflow import service

    declared = service.declare_team(state.cw, name, actor, reason=reason)
    emit({"name": declared.name}, as_json, lambda: f"Declared the team {declared.name}.")


@team.command("list")
@json_option
@pass_state
def list_(state: State, as_json: bool) -> None:
    """The declared teams and how many cases each has."""
    from casework.workflow import service

    teams = service.list_teams(state.cw)
    emit([{"name": t.name, "cases": t.cases} for t in teams], as_json,
         lambda: table([[t.name, t.cases] for t in teams], ["team", "cases"]) if teams else
         "No teams are declared: cases and staff take any team as written. Declare them with "
         "`casework team add NAME --as MANAGER`.")
