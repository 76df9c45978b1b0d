"""Which team names a store accepts: the ones it declares (workflow.teams), or any while it declares none."""
from __future__ import annotations

import unicodedata
from typing import Iterable

from casework.store import Connection, records

from ..errors import BadInput, UnknownName

__all__ = ["TEAM_KEY", "LONGEST", "UnknownTeam", "declared_teams", "checked_team", "team_name"]

#: the settings key a declared team is kept under
TEAM_KEY = "team:"
#: the longest team name: the settings key that keeps it is at most 64 characters on every store
LONGEST = 64 - len(TEAM_KEY)
#: characters no team name may hold: controls, invisible formatting (zero-width, bidirectional overrides),
#: separators other than the plain space, and surrogates or unassigned code points
_REFUSED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def team_name(text: str | None) -> str:
    """*text* as a team name: NFKC-normalised (so a fullwidth or composed look-alike is the same name), runs of
    spaces made one; BadInput for an empty name, one over LONGEST characters, or one holding a control or
    invisible character (a look-alike of a declared team, or an escape sequence for the terminal)."""
    name = " ".join(unicodedata.normalize("NFKC", text or "").split())
    if not name or len(name) > LONGEST:
        raise BadInput(f"Give the team a name of 1 to {LONGEST} characters.")
    bad = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in _REFUSED or
                  (unicodedata.category(c) == "Zs" and c != " ")})
    if bad:
        raise BadInput(f"A team name holds letters, digits, punctuation and spaces only; {name!r} holds "
                       f"{', '.join(bad)}.")
    return name


class UnknownTeam(UnknownName):
    """A team the store does not declare; a declared team differing only in case is the one suggested."""

    what = "team"

    def __init__(self, name: str, known: Iterable[str] = (), context: str = ""):
        known = list(known)
        folded = [k for k in known if k.casefold() == name.casefold()]
        super().__init__(name, known, context)
        if folded and not self.suggestions:
            self.suggestions = tuple(folded)
            self.args = (f"{self.args[0]} Did you mean {' or '.join(repr(s) for s in folded)}?",)


def declared_teams(conn: Connection) -> list[str]:
    """The teams the store declares, by name."""
    return sorted(r["key"][len(TEAM_KEY):] for r in records.rows_of(conn, "settings")
                  if r["key"].startswith(TEAM_KEY))


def checked_team(conn: Connection, name: str | None) -> str | None:
    """*name*, as :func:`team_name` keeps it, if the store declares it (or declares no team at all); UnknownTeam,
    suggesting only declared teams, otherwise. A name that differs from a declared one only in case or spacing is
    refused too, naming that one."""
    if name is None:
        return None
    name = team_name(name)
    declared = declared_teams(conn)
    if not declared or name in declared:
        return name
    raise UnknownTeam(name, declared, "(the teams are those declared with `casework team add`; "
                                             "`casework team list` lists them)")
