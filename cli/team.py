"""`casework team ...`: the teams a store declares, so that a mistyped team is refused rather than made."""
from __future__ import annotations

import shlex
from typing import Any

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
    emit({"name": declared.name, "note": declared.note}, as_json,
         lambda: f"Declared the team {declared.name}." + (f" Note: {declared.note}." if declared.note else ""))


@team.command("list")
@json_option
@pass_state
def list_(state: State, as_json: bool) -> None:
    """The declared teams and how many cases each has."""
    from casework.workflow import service

    teams = service.list_teams(state.cw)
    declared = [t for t in teams if t.declared]
    emit([{"name": t.name, "cases": t.cases, "declared": t.declared, "named_by": list(t.named_by)} for t in teams],
         as_json, lambda: _listing(declared, [t for t in teams if not t.declared]) if teams else
         "No teams are declared: cases and staff take any team as written. Declare them with "
         "`casework team add NAME --as MANAGER`.")


def _listing(declared: list[Any], undeclared: list[Any]) -> str:
    """The declared teams as a table, then each team a protocol's rules name that the store does not declare."""
    shown = table([[t.name, t.cases, "; ".join(t.named_by) or "-"] for t in declared],
                  ["team", "cases", "named by the rules of"])
    for t in undeclared:
        shown += (f"\nNot declared: {t.name}, named by the rules of {'; '.join(t.named_by)}"
                  + (f" ({t.note})" if t.note else "") + ". No case can be in it until it is declared, so those "
                  f"rules apply to no case (`casework team add {shlex.quote(t.name)} --as MANAGER`).")
    return shown
