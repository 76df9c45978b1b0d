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

from datetime import datetime

from casework.store import Connection, audit

from .clock import from_text
from .definition import Definition
from ..errors import CaseworkError
from .hydrate import staff_from_row
from .identity import DECLARED
from .people import Staff
from .staffing import explain_staff_change, explain_team_declaration

__all__ = ["misattributed"]

_LOGIN = "database-login:"



def _text(value: Any) -> str:
    """A payload's text value ('' for a missing or malformed one, which matches no login or person)."""
    return value if isinstance(value, str) else ""

class _Logins:
    """Who each login was, as the staff and settings chains said so far."""

    def __init__(self) -> None:
        self.mode = DECLARED
        self.trusted: set[str] = set()
        self.person: dict[str, str] = {}

    def learn(self, chain: str, action: str, payload: dict[str, Any]) -> None:
        if chain == "settings" and action == "setting":
            key, value = _text(payload.get("key")), _text(payload.get("value"))
            if key == "authentication":
                self.mode = value
            elif key == "owner_login" or (key.startswith("service_login:") and value == "true"):
                self.trusted.add(value if key == "owner_login" else key.split(":", 1)[1])
        elif chain == "staff" and action == "staff":
            staff_id = _text(payload.get("id"))
            self.person = {login: sid for login, sid in self.person.items() if sid != staff_id}
            if payload.get("login"):
                self.person[_text(payload["login"])] = staff_id

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


def _owner(conn: Connection) -> str | None:
    """The login that created the store: the value of its first 'owner_login' setting (None: a file, or a
    store from before owners were kept)."""
    for entry in audit.entries(conn, "settings"):
        if entry["payload"].get("key") == "owner_login":
            value = entry["payload"].get("value")
            return str(value) if value is not None else None
    return None


def misattributed(conn: Connection, staff_rules: Definition | None = None) -> list[audit.Broken]:
    """Every entry whose principal was not, when it was written, allowed to act as its actor; every settings
    entry not written by the store's owner; and (given the staff protocol's *staff_rules*) every change to the
    staff list its actor was not allowed to make, as the staff list stood then.

    Entries without a principal (made before principals and staff rules were kept), and refused attempts at
    identity (the ``access`` chain) are not judged here; entries by the operating-system user of a personal file
    are judged against the staff rules only. An entry found
    wrong teaches nothing: a forged setting or staff change never makes a later entry look right.
    """
    logins, owner = _Logins(), _owner(conn)
    staff: dict[str, Staff] = {}
    found: list[audit.Broken] = []
    for row in audit.attribution_rows(conn):
        payload = json.loads(row.payload) if row.payload is not None else {}
        principal = row.principal
        why = None
        if row.chain == "settings":
            if owner is not None and principal and principal != f"{_LOGIN}{owner}":
                why = f"{principal} wrote a setting, which only the store's owner ({_LOGIN}{owner}) does"
        elif principal and row.chain != "access" and not principal.startswith("os-user:"):
            why = logins.problem(row.actor, principal)
        if why is None and staff_rules is not None and row.chain == "staff" and row.action == "staff" and principal:
            why = _ungoverned(staff_rules, staff, row.actor, payload, from_text(row.recorded_at))
        if why is None and staff_rules is not None and row.chain == "staff" and row.action == "team" and principal:
            why = _undeclarable(staff_rules, staff, row.actor, payload, from_text(row.recorded_at))
        if why is not None:
            found.append(audit.Broken(row.chain, row.seq, row.id, f"entry {row.seq} is not its actor's: {why}"))
            continue
        logins.learn(row.chain, row.action, payload)
        if row.chain == "staff" and row.action == "staff" and payload.get("id"):
            staff[payload["id"]] = staff_from_row(payload)
    return found


def _ungoverned(rules: Definition, staff: dict[str, Staff], actor_id: str, payload: dict[str, Any],
                at: datetime) -> str | None:
    """Why the staff protocol would have refused this change to the staff list then (None: it allows it)."""
    try:
        after = staff_from_row(payload)
    except (KeyError, TypeError, ValueError):
        return "its payload is not a staff row casework writes"
    before = staff.get(after.id)
    if payload.get("first") and not staff:
        actor = after
    elif actor_id not in staff:
        return f"{actor_id!r} was not on the staff list when the change was written"
    else:
        actor = staff[actor_id]
    try:
        verdict = explain_staff_change(rules, actor, before, after, at)
    except CaseworkError as exc:
        return str(exc)
    if verdict.allowed:
        return None
    return "the staff protocol refuses it: " + "; ".join(u.line() for u in verdict.unmet)


def _undeclarable(rules: Definition, staff: dict[str, Staff], actor_id: str, payload: dict[str, Any],
                  at: datetime) -> str | None:
    """Why the staff protocol would have refused this team's declaration then (None: it allows it)."""
    if actor_id not in staff:
        return f"{actor_id!r} was not on the staff list when the team was declared"
    verdict = explain_team_declaration(rules, staff[actor_id], _text(payload.get("team")), at)
    if verdict.allowed:
        return None
    return "the staff protocol refuses it: " + "; ".join(u.line() for u in verdict.unmet)
