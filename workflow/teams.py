"""The store's teams: declared by a manager, so that a mistyped team is refused rather than made.

A case's team decides whose managers may act on it and which pilots apply, so a team
written one way on the case and another on the staff list silently takes the case out
of its protocol's reach. Teams are therefore declared (``casework team add``) by the
people the staff protocol lets move staff between teams, on the staff chain, and kept
as ``team:NAME`` rows of the settings table, which ``audit verify`` compares with that
chain. Once a store declares a team, every case opened or transferred and every staff
member's team must be one of them; a store that declares none takes teams as written,
as stores made before teams were declared did.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casework.store import audit, records

from . import identity
from .clock import to_text
from ..errors import AlreadyExists, StaffChangeRefused
from .hydrate import load_staff
from .staff_actions import staff_rules
from .team_names import TEAM_KEY, declared_teams, team_name
from .staffing import explain_team_declaration
from .units import policy_version, unit_of_work, when
from .workspace import Casework

__all__ = ["Team", "declare_team", "list_teams"]

@dataclass(frozen=True)
class Team:
    """A declared team and how many cases it has (open or not)."""

    name: str
    cases: int = 0


@unit_of_work
def declare_team(cw: Casework, name: str, actor: str, *, reason: str | None = None) -> Team:
    """Declare a team, if *actor* may move people between teams under the store's staff protocol."""
    name = team_name(name)
    now, _ = when(cw, None)
    with cw.store.write() as conn:
        records.lock_chain(conn, "staff")
        principal = identity.authenticate(conn, actor, cw.principal)
        declared = declared_teams(conn)
        same = [t for t in declared if t.casefold() == name.casefold()]
        if same:
            raise AlreadyExists(f"The team {same[0]!r} is declared already.")
        rules = staff_rules(cw, conn)
        verdict = explain_team_declaration(rules, load_staff(conn, actor), name, now)
        protocol = rules.name
        entry: dict[str, Any] = {"recorded_at": to_text(now), "at": to_text(now), "actor": actor, "principal": principal}
        if not verdict.allowed:
            audit.append(conn, "staff", **entry, action="refused", event="declare_team",
                         payload={"team": name, "verdict": verdict.to_dict(), "reason": reason})
        else:
            records.set_setting(conn, TEAM_KEY + name, "declared")
            audit.append(conn, "staff", **entry, action="team", event="declare_team", policy=protocol,
                         policy_version=policy_version(cw, protocol), payload={"team": name, "reason": reason})
    if not verdict.allowed:
        raise StaffChangeRefused(verdict)
    return Team(name)


def list_teams(cw: Casework) -> list[Team]:
    """The declared teams, with how many cases each has."""
    with cw.store.read() as conn:
        names = declared_teams(conn)
        counts: dict[str, int] = {}
        for case in records.list_cases(conn):
            counts[case["team"]] = counts.get(case["team"], 0) + 1
    return [Team(n, counts.get(n, 0)) for n in names]

