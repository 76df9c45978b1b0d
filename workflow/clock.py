"""Time: every instant is timezone-aware UTC; days are counted in England's time zone.

"Now" is always passed in (``Casework.clock``), never read deep inside the engine, so
that tests and ``--at`` / ``--as-of`` can fix it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from ..errors import BadInput

__all__ = ["LONDON", "utc_now", "parse_when", "parse_day", "day_of", "day_words", "to_text", "from_text"]

LONDON = ZoneInfo("Europe/London")


def utc_now() -> datetime:
    """The real clock; the default for ``Casework.clock``."""
    return datetime.now(timezone.utc)


def parse_when(text: str) -> datetime:
    """'2024-10-04' (start of that day in England) or an ISO datetime → aware UTC datetime."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), LONDON).astimezone(timezone.utc)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"Cannot read {text!r} as a date or time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value.astimezone(timezone.utc)


def parse_day(text: str) -> date:
    """'2024-10-04' → date, with a clear error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"Cannot read {text!r} as a date: use YYYY-MM-DD.") from None


def day_of(moment: datetime) -> date:
    """The calendar day in England on which *moment* falls."""
    return moment.astimezone(LONDON).date()


def day_words(day: date) -> str:
    """'3 Dec 2026': a day as a sentence gives it to people."""
    return f"{day.day} {day:%b %Y}"


@lru_cache(maxsize=64)
def to_text(moment: datetime) -> str:
    """Store form: fixed-width ISO 8601 in UTC, so text order is time order (kept for the last few moments:
    an action writes its moment and "now" half a dozen times)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    """Inverse of :func:`to_text`."""
    return datetime.fromisoformat(text)
