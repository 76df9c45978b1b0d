"""England's bank holidays, from the ``holidays`` library, kept in a per-user cache.

Asking ``holidays`` for England imports the calendar of every country it knows (about
100 ms), most of what a CLI move would spend counting working days. The dates of a span
of years are therefore kept in a JSON file in the user's cache directory
(``CASEWORK_CACHE_DIR``, else the platform's cache directory), keyed by the installed
``holidays`` files so that upgrading the library refreshes them. The library stays the
only source of the dates; when the cache cannot be read or written it is asked directly.
"""
from __future__ import annotations

import importlib.util
import json
import os
from datetime import date
from pathlib import Path

from .user_cache import cache_directory

__all__ = ["england_bank_holidays", "england_bank_holidays_in", "cache_file"]

#: years either side of the one asked for that a cache miss fills in at once
_SPAN = 25
_FILE = "england-bank-holidays.json"


def cache_file() -> Path | None:
    """Where the cache lives, or None when no cache directory can be named."""
    directory = cache_directory()
    return directory / _FILE if directory is not None else None


def _library_key() -> str:
    """Identifies the installed ``holidays`` without importing it: its files' paths, sizes and times."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return "missing"
    package = Path(spec.origin).parent
    parts = []
    for file in (package / "version.py", package / "countries" / "united_kingdom.py"):
        try:
            st = file.stat()
            parts.append(f"{file}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{file}:-")
    return "|".join(parts)


def _from_library(years: range) -> dict[int, frozenset[date]]:
    import holidays

    found: dict[int, set[date]] = {year: set() for year in years}
    for day in holidays.country_holidays("GB", subdiv="ENG", years=list(years)):
        found[day.year].add(day)
    return {year: frozenset(days) for year, days in found.items()}


def _read(file: Path, key: str) -> dict[str, list[str]]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("holidays") != key or not isinstance(data.get("years"), dict):
        return {}
    years: dict[str, list[str]] = data["years"]
    return years


def _write(file: Path, key: str, years: dict[str, list[str]]) -> None:
    """Replace the cache atomically, so a concurrent reader sees the old file or the new one."""
    import tempfile  # only on a miss: every command reads the cache, few write it

    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".bank-holidays-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"holidays": key, "years": years}, out, sort_keys=True)
        os.replace(tmp, file)
    except OSError:
        return


def england_bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays in *year*, as the installed ``holidays`` library gives them."""
    file = cache_file()
    if file is None:
        return _from_library(range(year, year + 1))[year]
    key = _library_key()
    cached = _read(file, key)
    try:
        return frozenset(date.fromisoformat(d) for d in cached[str(year)])
    except (KeyError, TypeError, ValueError):
        pass
    fresh = _from_library(range(year - _SPAN, year + _SPAN + 1))
    cached.update({str(y): sorted(d.isoformat() for d in days) for y, days in fresh.items()})
    _write(file, key, cached)
    return fresh[year]


def england_bank_holidays_in(first: int, last: int) -> dict[int, frozenset[date]]:
    """England's bank holidays in every year from *first* to *last*: one read of the cache (and at most one ask
    of the library for the years it lacks), as the fingerprint of the holidays needs them all."""
    file = cache_file()
    if file is None:
        return _from_library(range(first, last + 1))
    key = _library_key()
    cached = _read(file, key)
    missing = [y for y in range(first, last + 1) if str(y) not in cached]
    if missing:
        fresh = _from_library(range(min(missing), max(missing) + 1))
        cached.update({str(y): sorted(d.isoformat() for d in days) for y, days in fresh.items()})
        _write(file, key, cached)
    return {y: frozenset(date.fromisoformat(d) for d in cached[str(y)]) for y in range(first, last + 1)}
