"""What every action shares: its unit of work (retried when it lost a race, an identity refusal
audited), its moment (a simulated clock only on a training sandbox, nothing in the future), and
the name of the definition version it was judged by.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Callable, TypeVar

from casework.store import audit, records

from .clock import day_of, to_text
from ..errors import BadInput, IdentityRefused, LostRace
from .requirements.base import FIRST_DAY, LAST_DAY
from .workspace import Casework

__all__ = ["KEEP", "SKEW", "unit_of_work", "is_sandbox", "when", "policy_version"]

#: pass as ``supervisor``/``worker`` to keep the current holder when reallocating the lead
KEEP: Any = type("Keep", (), {"__repr__": lambda self: "KEEP"})()

#: how far ahead of the clock an action may be dated (clock skew between machines)
SKEW = timedelta(minutes=5)
#: how many times a unit of work that lost a race to another writer is run again before giving up
_ATTEMPTS = 5

_F = TypeVar("_F", bound=Callable[..., Any])


def unit_of_work(action: _F) -> _F:
    """Run *action* again when it lost a race to a concurrent writer (nothing was written, a bounded
    number of times); audit an identity refusal, whose own unit of work was rolled back, on the
    'access' chain before raising it."""
    @wraps(action)
    def run(cw: Casework, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return action(cw, *args, **kwargs)
            except LostRace:
                if attempt == _ATTEMPTS:
                    raise
            except IdentityRefused as exc:
                _audit_refused_identity(cw, action.__name__, exc)
                raise
        raise LostRace("Other writers kept winning the same records; nothing was written. Try again.")  # pragma: no cover
    return run  # type: ignore[return-value]


def _audit_refused_identity(cw: Casework, what: str, exc: IdentityRefused) -> None:
    now = to_text(cw.clock())
    with cw.store.write() as conn:
        records.lock_chain(conn, "access")
        audit.append(conn, "access", recorded_at=now, at=now, actor=exc.claimed[:64], action="identity",
                     event=what, principal=exc.principal[:200], payload={"as": exc.claimed, "refused": str(exc)})


def is_sandbox(cw: Casework) -> bool:
    """Whether the store is a training sandbox (once seen, remembered: a store never stops being one)."""
    if not cw.sandbox_seen:
        with cw.store.read() as conn:
            cw.sandbox_seen = records.get_setting(conn, "sandbox") == "true"
    return cw.sandbox_seen


def when(cw: Casework, at: datetime | None) -> tuple[datetime, datetime]:
    """(when the action happened, now): *at* defaults to now, may not be in the future (beyond clock skew) or
    outside the dates casework keeps; a simulated clock is refused unless the store is a training sandbox."""
    if cw.simulated and not is_sandbox(cw):
        raise BadInput("A simulated clock (--clock) is only for training sandboxes: "
                       "create one with 'casework --db NEW.db init --sandbox'.")
    now = cw.clock()
    at = at or now
    if at.tzinfo is None:
        raise BadInput(f"{at.isoformat()} has no time zone; pass an aware datetime.")
    if at > now + SKEW:
        raise BadInput(f"{at.isoformat()} is in the future; record things once they have happened.")
    for moment in (at, now):
        if not FIRST_DAY <= day_of(moment) <= LAST_DAY:
            raise BadInput(f"{to_text(moment)} is outside the dates casework keeps ({FIRST_DAY} to {LAST_DAY}).")
    return at, now


def policy_version(cw: Casework, policy: str) -> str:
    """'1@3f2a9c…': the definition's version and the start of its digest, as audit entries name what judged them."""
    d = cw.policies.get(policy)
    return f"{d.version}@{d.digest[:12]}"
