"""Whether each audit entry's principal could act as its actor when it was written, replayed from the log.

Hash chains show that entries were not changed; they cannot show that an entry appended by
someone with the right to append was theirs to write. On a shared store every entry names
the database login that wrote it (PostgreSQL refuses any other, migration 0004), and the
staff and settings chains say, at every moment, which login acts as which person and which
logins the store trusts to vouch for others. Replaying them in the order entries were
written, ``audit verify`` reports an entry whose login was not then the person it names:
an entry forged by a login in someone else's name, or written while its login was mapped
to another person.
"""
from __future__ import annotations

import json
from typing import Any

from store import Connection, audit

from .identity import DECLARED

__all__ = ["misattributed"]

_LOGIN = "database-login:"


class _Logins:
    """Who each login was, as the staff and settings chains said so far."""

    def __init__(self) -> None:
        self.mode = DECLARED
        self.trusted: set[str] = set()
        self.person: dict[str, str] = {}

    def learn(self, chain: str, action: str, payload: dict[str, Any]) -> None:
        if chain == "settings" and action == "setting":
            key, value = payload.get("key", ""), payload.get("value")
            if key == "authentication":
                self.mode = value
            elif key == "owner_login" or (key.startswith("service_login:") and value == "true"):
                self.trusted.add(value if key == "owner_login" else key.split(":", 1)[1])
        elif chain == "staff" and action == "staff":
            staff_id = payload.get("id")
            self.person = {login: sid for login, sid in self.person.items() if sid != staff_id}
            if payload.get("login"):
                self.person[payload["login"]] = staff_id

    def problem(self, actor: str, principal: str) -> str | None:
        """Why *principal* could not act as *actor* now, or None."""
        writer = principal.rsplit(" via ", 1)[-1]
        if not writer.startswith(_LOGIN):
            return f"its principal {principal!r} names no database login"
        login = writer[len(_LOGIN):]
        if self.mode == DECLARED or login in self.trusted:
            return None
        if " via " in principal:
            return f"{writer} passed {principal.rsplit(' via ', 1)[0]!r} but was not a login trusted to vouch"
        mapped = self.person.get(login)
        if mapped != actor:
            return f"{writer} acted as {actor!r} but was mapped to {mapped or 'nobody'} when the entry was written"
        return None


def misattributed(conn: Connection) -> list[audit.Broken]:
    """Every entry whose principal was not, when it was written, allowed to act as its actor.

    Entries without a principal (made before principals were kept), by the operating-system
    user of a personal file, of the store's own settings (its owner's) and refused attempts at
    identity (the ``access`` chain) are not judged here.
    """
    logins = _Logins()
    found: list[audit.Broken] = []
    for row in audit.attribution_rows(conn):
        payload = json.loads(row.payload) if row.payload is not None else {}
        principal = row.principal
        if principal and row.chain not in ("settings", "access") and not principal.startswith("os-user:"):
            why = logins.problem(row.actor, principal)
            if why is not None:
                found.append(audit.Broken(row.chain, row.seq, row.id, f"entry {row.seq} is not its actor's: {why}"))
        logins.learn(row.chain, row.action, payload)
    return found
