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
from bisect import bisect_left
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

__all__ = ["misattributed", "Attribution"]

_LOGIN = "database-login:"



def _text(value: Any) -> str:
    """A payload's text value ('' for a missing or malformed one, which matches no login or person)."""
    return value if isinstance(value, str) else ""

class _Logins:
    """Who each login was, as the staff and settings chains said, at every moment: learnt in the order written,
    asked as of any entry (an entry of another chain, judged as the pass over the log reaches it)."""

    def __init__(self) -> None:
        #: entry ids where the authentication mode changed, and the mode from each (before the first: DECLARED)
        self._mode_ids: list[int] = []
        self._modes: list[str] = []
        self._trusted_since: dict[str, int] = {}
        #: login → (entry ids, the person it was mapped to from each: None, nobody)
        self._person: dict[str, tuple[list[int], list[str | None]]] = {}
        self._now: dict[str, str] = {}

    def learn(self, entry_id: int, chain: str, action: str, payload: dict[str, Any]) -> None:
        """What one entry of the staff or settings chain says, from that entry on."""
        if chain == "settings" and action == "setting":
            key, value = _text(payload.get("key")), _text(payload.get("value"))
            if key == "authentication":
                self._mode_ids.append(entry_id)
                self._modes.append(value)
            elif key == "owner_login" or (key.startswith("service_login:") and value == "true"):
                self._trusted_since.setdefault(value if key == "owner_login" else key.split(":", 1)[1], entry_id)
        elif chain == "staff" and action == "staff":
            staff_id = _text(payload.get("id"))
            for login in [login for login, sid in self._now.items() if sid == staff_id]:
                self._map(entry_id, login, None)
            if payload.get("login"):
                self._map(entry_id, _text(payload["login"]), staff_id)

    def _map(self, entry_id: int, login: str, staff_id: str | None) -> None:
        ids, people = self._person.setdefault(login, ([], []))
        ids.append(entry_id)
        people.append(staff_id)
        if staff_id is None:
            self._now.pop(login, None)
        else:
            self._now[login] = staff_id

    def problem(self, actor: str, principal: str, entry_id: int) -> str | None:
        """Why *principal* could not act as *actor* when entry *entry_id* was written, or None."""
        writer = principal.rsplit(" via ", 1)[-1]
        if not writer.startswith(_LOGIN):
            return f"its principal {principal!r} names no database login"
        login = writer[len(_LOGIN):]
        at = bisect_left(self._mode_ids, entry_id) - 1
        if (self._modes[at] if at >= 0 else DECLARED) == DECLARED:
            return None
        if self._trusted_since.get(login, entry_id) < entry_id:
            return None
        if " via " in principal:
            return f"{writer} passed {principal.rsplit(' via ', 1)[0]!r} but was not a login trusted to vouch"
        ids, people = self._person.get(login, ([], []))
        at = bisect_left(ids, entry_id) - 1
        mapped = people[at] if at >= 0 else None
        if mapped != actor:
            return f"{writer} acted as {actor!r} but was mapped to {mapped or 'nobody'} when the entry was written"
        return None


def _decoded(payload: str) -> dict[str, Any]:
    """A staff or settings entry's payload ({} for one that is not casework's JSON: it teaches nothing)."""
    try:
        found = json.loads(payload)
    except (TypeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _owner(people: list[Any]) -> str | None:
    """The login that created the store: the value of its first 'owner_login' setting (None: a file, or a
    store from before owners were kept)."""
    for row in sorted((r for r in people if r.chain == "settings"), key=lambda r: r.seq):  # the chain's order,
        payload = _decoded(row.payload)                                                 # which its hashes keep
        if payload.get("key") == "owner_login":
            value = payload.get("value")
            return str(value) if value is not None else None
    return None


class Attribution:
    """Who could write what, from the staff and settings chains (read first, in the order written): their own
    entries judged, and any other entry judged as it is reached (``judge``), in whatever order."""

    def __init__(self, conn: Connection, staff_rules: Definition | None = None, people: list[Any] | None = None):
        people = audit.people_entries(conn) if people is None else people
        owner = _owner(people)
        self.logins = _Logins()
        staff: dict[str, Staff] = {}
        #: the staff and settings chains' entries that are not their actors' (in the order written)
        self.found: list[audit.Broken] = []
        for row in people:
            payload = _decoded(row.payload)
            principal = row.principal
            why = None
            if row.chain == "settings":
                if owner is not None and principal and principal != f"{_LOGIN}{owner}":
                    why = f"{principal} wrote a setting, which only the store's owner ({_LOGIN}{owner}) does"
            elif principal and not principal.startswith("os-user:"):
                why = self.logins.problem(row.actor, principal, row.id)
            if why is None and staff_rules is not None and principal and row.chain == "staff":
                at = from_text(row.recorded_at)
                if row.action == "staff":
                    why = _ungoverned(staff_rules, staff, row.actor, payload, at)
                elif row.action == "team":
                    why = _undeclarable(staff_rules, staff, row.actor, payload, at)
            if why is not None:
                self.found.append(audit.Broken(row.chain, row.seq, row.id, f"entry {row.seq} is not its actor's: {why}"))
                continue
            self.logins.learn(row.id, row.chain, row.action, payload)
            if row.chain == "staff" and row.action == "staff" and payload.get("id"):
                staff[payload["id"]] = staff_from_row(payload)

    def judge(self, entry_id: int, chain: str, seq: int, actor: str, principal: str | None) -> audit.Broken | None:
        """An entry of a case's, the definitions' or the access chain, if its principal could not act as its actor
        when it was written (refused attempts at identity, the ``access`` chain, and entries by the
        operating-system user of a personal file are not judged)."""
        if not principal or chain in _PEOPLE or chain == "access" or principal.startswith("os-user:"):
            return None
        why = self.logins.problem(actor, principal, entry_id)
        return None if why is None else audit.Broken(chain, seq, entry_id, f"entry {seq} is not its actor's: {why}")


_PEOPLE = ("staff", "settings")


def misattributed(conn: Connection, staff_rules: Definition | None = None) -> list[audit.Broken]:
    """Every entry whose principal was not, when it was written, allowed to act as its actor; every settings
    entry not written by the store's owner; and (given the staff protocol's *staff_rules*) every change to the
    staff list its actor was not allowed to make, as the staff list stood then (in the order written).

    Entries without a principal (made before principals and staff rules were kept), and refused attempts at
    identity (the ``access`` chain) are not judged here; entries by the operating-system user of a personal file
    are judged against the staff rules only. An entry found
    wrong teaches nothing: a forged setting or staff change never makes a later entry look right.
    """
    judged = Attribution(conn, staff_rules)
    found = list(judged.found)
    for row in audit.attribution_rows(conn):
        wrong = judged.judge(row.id, row.chain, row.seq, row.actor, row.principal)
        if wrong is not None:
            found.append(wrong)
    return sorted(found, key=lambda b: b.entry_id or 0)


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
