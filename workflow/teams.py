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
from typing import Any, Iterable

from casework.store import audit, records

from . import identity
from .clock import to_text
from .definition import Definition
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
    """A team: how many cases it has (open or not), and the protocols whose rules name it (a pilot's teams)."""

    name: str
    cases: int = 0
    #: 'derbyshire (DER-8)': each protocol the store's cases run under whose rules name the team, with those rules
    named_by: tuple[str, ...] = ()
    #: False for a team those rules name that the store does not declare: no case can be in it, so the rules
    #: that name it apply to no case
    declared: bool = True
    #: what a manager should know of the name: a protocol spells it otherwise, or the store declares it otherwise
    note: str = ""


def _named(definitions: Iterable[Definition]) -> dict[str, tuple[str, ...]]:
    """Team → 'derbyshire (DER-8)' for each protocol among *definitions* whose rules name it."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for d in definitions:
        for team, rules in d.named_teams.items():
            by = found.setdefault(team, {})
            by[d.name] = tuple(dict.fromkeys((*by.get(d.name, ()), *rules)))
    return {team: tuple(f"{name} ({', '.join(rules)})" if rules else name for name, rules in sorted(by.items()))
            for team, by in found.items()}


def _spelt_otherwise(definitions: Iterable[Definition], name: str) -> str:
    """A note when a protocol's rules name *name* spelt otherwise (in case): the rules that name it apply only to
    cases of a team spelt as they spell it. Empty when none does."""
    notes = []
    for team, by in sorted(_named(definitions).items()):
        if team.casefold() == name.casefold() and team != name:
            notes.append(f"the rules of {'; '.join(by)} name the team {team!r}, and apply only to cases of a team "
                         f"spelt so")
    return "; ".join(notes)


@unit_of_work
def declare_team(cw: Casework, name: str, actor: str, *, reason: str | None = None) -> Team:
    """Declare a team, if *actor* may move people between teams under the store's staff protocol."""
    name = team_name(name)
    now, _ = when(cw, None)
    with cw.store.write() as conn:
        records.lock_chain(conn, "staff")
        principal = identity.authenticate(conn, actor, cw.principal)
        declared = declared_teams(conn)
        protocols = cw.versions.known(conn)  # the files' and those the store's cases run under
        same = [t for t in declared if t.casefold() == name.casefold()]
        if same and (name in same or name not in _named(protocols)):  # a protocol's own spelling is a way out
            raise AlreadyExists(f"The team {same[0]!r} is declared already.")
        note = _spelt_otherwise(protocols, name)
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
    return Team(name, note=note)



def list_teams(cw: Casework) -> list[Team]:
    """The declared teams, with how many cases each has and the protocols that name them; then, once the store
    declares a team, the teams that the protocols its cases run under name but it does not declare."""
    with cw.store.read() as conn:
        names = declared_teams(conn)
        counts = records.cases_per_team(conn)
        named = _named(cw.versions.known(conn, files=False)) if names else {}
    def as_declared(team: str) -> str:
        same = [n for n in names if n.casefold() == team.casefold()]
        return f"this store declares it as {same[0]!r}, which those rules do not match" if same else ""

    return [*(Team(n, counts.get(n, 0), named.get(n, ())) for n in names),
            *(Team(n, 0, by, declared=False, note=as_declared(n)) for n, by in sorted(named.items()) if n not in names)]

