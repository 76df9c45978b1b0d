"""Working days in England: weekends, England bank holidays (``holidays``) and local closures.

Months are calendar months with the day clamped to the month's end
(``dateutil.relativedelta``): three months after 31 January is 30 April (29 in a leap
year), and after 30 November it is 28 February.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable

import holidays
from dateutil.relativedelta import relativedelta

__all__ = ["WorkingCalendar", "add_duration"]


@lru_cache(maxsize=None)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


class WorkingCalendar:
    """Counts working days; local closure days (e.g. a Christmas shutdown) count as non-working."""

    def __init__(self, closures: Iterable[date] = ()):
        self.closures = frozenset(closures)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, not an England bank holiday, not a local closure."""
        return day.weekday() < 5 and day not in _bank_holidays(day.year) and day not in self.closures

    def add_working_days(self, start: date, days: int) -> date:
        """The *days*-th working day after *start* (start itself does not count)."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after *start* up to and including *end*; negative when end is earlier."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def add_duration(calendar: WorkingCalendar, start: date, amount: int, unit: str) -> date:
    """start + amount of unit: working_days, days, weeks or months."""
    if unit == "working_days":
        return calendar.add_working_days(start, amount)
    if unit == "days":
        return start + timedelta(days=amount)
    if unit == "weeks":
        return start + timedelta(weeks=amount)
    if unit == "months":
        return start + relativedelta(months=amount)
    raise ValueError(f"unknown unit {unit!r}")
