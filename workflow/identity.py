"""Who is acting, as the store authenticates them, not as ``--as`` claims.

A store records how its actors are authenticated (its ``authentication`` setting):

- ``declared`` (a personal SQLite store, by default): ``--as`` names the actor, and the
  principal kept beside it is the operating-system user running casework, who owns the
  file, as git's author is whoever commits (on PostgreSQL: the database login).
- ``login`` (a shared PostgreSQL store, by default): the principal is the database login
  (``session_user``, which ``SET ROLE`` does not change). A login mapped to a staff member
  (``staff update ID --login``) may act only as that person. The login that created the
  store and logins registered as trusted services (``init --service-login``) may act as
  the person they name, and are recorded as vouching for them. Any other login is refused.

A service in front of the store verifies a token and passes the principal it names
(``Casework.principal = Principal.token(subject, staff_id)``) through the same check: a
principal bound to a staff member may act only as them, and a token is taken only from
a login the store trusts to vouch. Every audit entry keeps the principal's text; on PostgreSQL
the server refuses an entry whose principal is not its own session's login (migration 0004),
and ``audit verify`` checks every entry's principal against the logins mapped at the time
(workflow.attribution).
"""
from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from casework.store import Connection, records

from ..errors import BadInput, IdentityRefused

__all__ = ["Principal", "StoreState", "AUTHENTICATION", "DECLARED", "LOGIN", "LOGIN_NAME", "authenticate", "running"]

DECLARED = "declared"
LOGIN = "login"
#: how a store may authenticate its actors (the store's 'authentication' setting)
AUTHENTICATION = (DECLARED, LOGIN)
#: what casework takes as a database login name
LOGIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$")


@dataclass(frozen=True)
class Principal:
    """Who authenticated, how, and the staff member they are bound to act as (if they are)."""

    method: Literal["os-user", "database-login", "token"]
    name: str
    #: when set, this principal may act only as this staff member
    staff_id: str | None = None
    #: the trusted login or operating-system user that verified it (a token passed by a service)
    via: str | None = None

    @classmethod
    def token(cls, subject: str, staff_id: str) -> "Principal":
        """The principal of a token a service verified: *subject* (e.g. the token's 'sub'), acting as *staff_id*."""
        if not subject or not staff_id:
            raise BadInput("A token principal needs the token's subject and the staff id it maps to.")
        return cls("token", subject, staff_id)

    def text(self) -> str:
        """'database-login:ana', 'token:ana@la.example via database-login:casework_api': kept in the audit entry."""
        own = f"{self.method}:{self.name}"
        return f"{own} via {self.via}" if self.via else own


@dataclass(frozen=True)
class StoreState:
    """What identity reads of the store with a case: its authentication setting and the heads of the staff and
    settings chains. While both heads stand still, who a login is cannot have changed."""

    setting: str | None
    #: the hash of each chain's head: it names the whole chain before it, in this store and no other
    staff_head: str | None
    settings_head: str | None


#: (store URL, staff head, settings head) → the connection's principal and whether it may vouch (logins that may act)
_KNOWN: dict[tuple[str, str | None, str | None], tuple[Principal, bool]] = {}


@lru_cache(maxsize=1)
def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. a container): the uid is who it is
        import os
        return f"uid {os.getuid()}"


def running(conn: Connection) -> str:
    """The principal running casework on this connection, bound to nobody (for the store's own entries)."""
    if conn.dialect == "sqlite":
        return Principal("os-user", _os_user()).text()
    return Principal("database-login", records.session_login(conn)).text()


def _trusted_login(conn: Connection, login: str) -> bool:
    return records.get_setting(conn, "owner_login") == login or \
        records.get_setting(conn, f"service_login:{login}") == "true"


def _base(conn: Connection, claimed: str, mode: str | None) -> tuple[Principal, bool]:
    """The principal of this connection, and whether it may vouch for the person it names."""
    if conn.dialect == "sqlite":  # a file has no logins: whoever runs casework writes it
        return Principal("os-user", _os_user()), True
    login = records.session_login(conn)
    if not LOGIN_NAME.match(login):  # e.g. a role named 'x via database-login:owner': it could pass for another
        raise IdentityRefused(f"The database login {login!r} is not a name casework takes (letters, digits and "
                              f"_ . @ -): rename the role to act on this store.", f"database-login:{login[:60]}",
                              claimed)
    if (mode or DECLARED) == DECLARED or _trusted_login(conn, login):
        return Principal("database-login", login), True
    mapped = records.staff_with_login(conn, login)
    if not mapped:
        raise IdentityRefused(f"The database login {login!r} is mapped to no staff member, so it cannot act on this "
                              f"store. A service manager maps it with 'casework staff update ID --login {login}'.",
                              f"database-login:{login}", claimed)
    return Principal("database-login", login, mapped[0]), False


_UNREAD = object()


def authenticate(conn: Connection, claimed: str, given: Principal | None = None, mode: object = _UNREAD) -> str:
    """The principal allowed to act as *claimed* in this unit of work, as audit entries record it.

    *given* is a principal a service verified (a token); it is taken only from a trusted login.
    *mode* is what the caller read of the store already in this unit of work (a StoreState, whose chain heads
    let a login's principal be reused while neither the staff list nor the settings changed).
    Raises IdentityRefused when the principal is bound to someone else or cannot act at all.
    """
    if isinstance(mode, StoreState):
        key = (conn.url, mode.staff_head, mode.settings_head)
        if key not in _KNOWN:
            if len(_KNOWN) > 256:
                _KNOWN.clear()
            _KNOWN[key] = _base(conn, claimed, mode.setting)
        base, may_vouch = _KNOWN[key]
    else:
        setting = records.get_setting(conn, "authentication") if mode is _UNREAD else mode
        base, may_vouch = _base(conn, claimed, setting)  # type: ignore[arg-type]
    principal = base
    if given is not None:
        if not may_vouch:
            raise IdentityRefused(f"{base.text()} acts as {base.staff_id} only; it is not a service the store trusts "
                                  f"to pass a verified principal ({given.text()}).", base.text(), claimed)
        principal = replace(given, via=base.text())
    if principal.staff_id is not None and principal.staff_id != claimed:
        raise IdentityRefused(f"{principal.text()} is authenticated as {principal.staff_id!r}, so it cannot act as "
                              f"{claimed!r}. Nothing was done; the attempt is in the audit log.",
                              principal.text(), claimed)
    return principal.text()
