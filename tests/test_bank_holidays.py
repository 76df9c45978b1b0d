"""England's bank holidays come from the ``holidays`` library, through a per-user cache.

The cache exists so that a CLI command counting working days does not import every
country's calendar; these tests prove it gives the library's dates, is really read,
refreshes when the library changes, and never stands in the way when it is broken.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import holidays
import pytest

from casework.workflow.bank_holidays import england_bank_holidays

YEARS = [2022, 2023, 2026, 2031]


def library(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("year", YEARS)
def test_the_dates_are_the_library_s_whether_cached_or_not(cache_dir, year):
    """First call fills the cache, second reads it: both equal what `holidays` says (jubilee, coronation)."""  # WT-6
    assert england_bank_holidays(year) == library(year)
    assert (cache_dir / "england-bank-holidays.json").exists()
    assert england_bank_holidays(year) == library(year)


def test_the_cache_is_read_and_one_miss_fills_the_years_around_it(cache_dir):
    """After one miss, neighbouring years are answered from the file (a marked entry proves it)."""
    england_bank_holidays(2026)
    file = cache_dir / "england-bank-holidays.json"
    data = json.loads(file.read_text())
    assert {"2001", "2026", "2051"} <= set(data["years"])
    data["years"]["2030"] = ["2030-07-04"]
    file.write_text(json.dumps(data))
    assert england_bank_holidays(2030) == {date(2030, 7, 4)}


def test_a_cache_written_by_another_holidays_release_is_refreshed(cache_dir):
    """A changed library (upgrade) means the cached dates are not trusted and are recomputed."""
    england_bank_holidays(2026)
    file = cache_dir / "england-bank-holidays.json"
    data = json.loads(file.read_text())
    current = data["holidays"]
    data.update(holidays="an older release", years={"2026": ["2026-07-04"]})
    file.write_text(json.dumps(data))
    assert england_bank_holidays(2026) == library(2026)
    assert json.loads(file.read_text())["holidays"] == current


@pytest.mark.parametrize("damage", ["{not json", '{"holidays": 1}', "[]", '{"holidays": "K", "years": {"2026": 5}}'])
def test_a_damaged_cache_is_ignored_and_rewritten(cache_dir, damage):
    cache_dir.mkdir()
    (cache_dir / "england-bank-holidays.json").write_text(damage)
    assert england_bank_holidays(2026) == library(2026)
    assert "2026" in json.loads((cache_dir / "england-bank-holidays.json").read_text())["years"]


def test_an_unusable_cache_directory_still_gives_the_dates(tmp_path, monkeypatch):
    """A file where the directory should be: nothing can be cached, the library answers."""
    (tmp_path / "cache").write_text("not a directory")
    monkeypatch.setenv("CASEWORK_CACHE_DIR", str(tmp_path / "cache"))
    assert england_bank_holidays(2026) == library(2026)


def test_with_a_warm_cache_counting_working_days_does_not_import_holidays(cache_dir):
    """The point of the cache: a fresh process counts working days without loading `holidays`."""
    code = ("import sys; from datetime import date; from casework.workflow.calendar import calendar_for; "
            "n = calendar_for().working_days_between(date(2026, 1, 1), date(2026, 12, 31)); "
            "print(n, 'holidays' in sys.modules)")
    env = {"CASEWORK_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"}
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    # 2026 has 261 weekdays, 8 of them England bank holidays (1 January among them)
    assert cold.stdout.split() == ["253", "True"]
    assert warm.stdout.split() == ["253", "False"]


def test_the_years_read_at_once_are_the_years_read_one_by_one():
    """The fingerprint of the holidays (what kept due dates were counted under) reads every year in one go: the
    same days as asking year by year, including years the cache did not hold."""
    from casework.workflow.bank_holidays import england_bank_holidays, england_bank_holidays_in

    assert england_bank_holidays_in(2020, 2024) == {y: england_bank_holidays(y) for y in range(2020, 2025)}
    assert england_bank_holidays_in(2095, 2106)[2106] == england_bank_holidays(2106)
