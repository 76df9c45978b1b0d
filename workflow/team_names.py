"""Which team names a store accepts: the ones it declares (workflow.teams), or any while it declares none."""
from __future__ import annotations

from casework.store import Connection, records

from ..errors import UnknownName

__all__ = ["TEAM_KEY", "UnknownTeam", "declared_teams", "checked_team"]

#: the settings key a declared team is kept under
TEAM_KEY = "team:"


class UnknownTeam(UnknownName):
    what = "team"


def declared_teams(conn: Connection) -> list[str]:
    """The teams the store declares, by name."""
    return sorted(r["key"][len(TEAM_KEY):] for r in records.rows_of(conn, "settings")
                  if r["key"].startswith(TEAM_KEY))


def checked_team(conn: Connection, name: str | None) -> str | None:
    """*name* if the store declares it (or declares no team at all); UnknownTeam, suggesting only declared teams,
    otherwise. A name that differs from a declared one only in case or spacing is refused too, naming that one."""
    if name is None:
        return None
    declared = declared_teams(conn)
    if not declared or name in declared:
        return name
    same = [t for t in declared if " ".join(t.split()).casefold() == " ".join(name.split()).casefold()]
    raise UnknownTeam(name, same or declared, "(the teams are those declared with `casework team add`; "
                                             "`casework team list` lists them)")
