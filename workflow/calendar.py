"""Working days in England: weekends, England bank holidays (:mod:`workflow.bank_holidays`) and local closures.

Months are calendar months with the day clamped to the month's end
(``dateutil.relativedelta``): three months after 31 January is 30 April (29 in a leap
year), and after 30 November it is 28 February.
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable

from dateutil.relativedelta import relativedelta

from .bank_holidays import england_bank_holidays, england_bank_holidays_in

__all__ = ["WorkingCalendar", "add_duration", "calendar_for", "holidays_fingerprint"]


@lru_cache(maxsize=None)
def _bank_holidays(year: int) -> frozenset[date]:
    return england_bank_holidays(year)


class WorkingCalendar:
    """Counts working days; local closure days (e.g. a Christmas shutdown) count as non-working.

    Working days are kept as a sorted list of day ordinals, extended a year at a time,
    so counting is a binary search rather than a walk through the calendar.
    """

    def __init__(self, closures: Iterable[date] = ()):
        self.closures = frozenset(closures)
        self._first_year: int | None = None
        self._last_year: int | None = None
        self._days: list[int] = []

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, not an England bank holiday, not a local closure."""
        return day.weekday() < 5 and day not in _bank_holidays(day.year) and day not in self.closures

    def _year(self, year: int) -> list[int]:
        day, end = date(year, 1, 1), date(year, 12, 31)
        found = []
        while day <= end:
            if self.is_working_day(day):
                found.append(day.toordinal())
            day += timedelta(days=1)
        return found

    def _cover(self, first: int, last: int) -> None:
        if self._first_year is None or self._last_year is None:
            self._first_year = self._last_year = first
            self._days = self._year(first)
        while first < self._first_year:
            self._first_year -= 1
            self._days = self._year(self._first_year) + self._days
        while last > self._last_year:
            self._last_year += 1
            self._days += self._year(self._last_year)

    def add_working_days(self, start: date, days: int) -> date:
        """The *days*-th working day after *start* (start itself does not count)."""
        if days <= 0:
            return start
        self._cover(start.year, start.year + days // 250 + 1)
        return date.fromordinal(self._days[bisect_right(self._days, start.toordinal()) + days - 1])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after *start* up to and including *end*; negative when end is earlier."""
        if end < start:
            return -self.working_days_between(end, start)
        self._cover(start.year, end.year)
        return bisect_right(self._days, end.toordinal()) - bisect_right(self._days, start.toordinal())


@lru_cache(maxsize=64)
def calendar_for(closures: tuple[date, ...] = ()) -> WorkingCalendar:
    """The shared calendar for a definition's closure days (its working-day list is built once)."""
    return WorkingCalendar(closures)


def add_duration(calendar: WorkingCalendar, start: date, amount: int, unit: str) -> date:
    """start + amount of unit: working_days, days, weeks or months."""
    if unit == "working_days":
        return calendar.add_working_days(start, amount)
    if unit == "days":
        return start + timedelta(days=amount)
    if unit == "weeks":
        return start + timedelta(weeks=amount)
    if unit == "months":
        moved: date = start + relativedelta(months=amount)
        return moved
    raise ValueError(f"unknown unit {unit!r}")


@lru_cache(maxsize=1)
def holidays_fingerprint() -> str:
    """What England's bank holidays are, as 16 hex digits: due dates kept in the store (workflow.due_dates) were
    counted under the holidays this names, and are counted again when a newer ``holidays`` changes them."""
    import hashlib

    days = sorted(d.isoformat() for found in england_bank_holidays_in(*_YEARS).values() for d in found)
    return hashlib.sha256(",".join(days).encode()).hexdigest()[:16]


#: the years a due date can fall in: the dates casework keeps, and the longest deadline after them
_YEARS = (1990, 2106)
