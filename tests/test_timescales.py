"""Working-day calendar and statutory timescales (WT-6), computed from audited markers."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.cli.main import cli
from casework.workflow import service
from casework.workflow.calendar import WorkingCalendar, add_duration
from casework.workflow.clock import parse_when
from casework.errors import InvalidDefinition, TransitionRefused
from casework.workflow.loader import load_file
from casework.workflow.oversight import due_items
from casework.workflow.workspace import open_casework

from .helpers import add_standard_staff, case_in_assessment, case_in_cin_plan

CAL = WorkingCalendar()


@pytest.mark.parametrize("start,expected,why", [
    (date(2025, 4, 17), date(2025, 4, 22), "Easter: Good Friday and Easter Monday"),
    (date(2025, 12, 24), date(2025, 12, 29), "Christmas Day, Boxing Day, then a weekend"),
    (date(2021, 12, 31), date(2022, 1, 4), "New Year's Day on a Saturday, observed on Monday 3rd"),
    (date(2022, 6, 1), date(2022, 6, 6), "the extra 2022 Platinum Jubilee bank holidays"),
    (date(2023, 5, 5), date(2023, 5, 9), "the extra 2023 coronation bank holiday"),
    (date(2025, 3, 7), date(2025, 3, 10), "a plain weekend"),
])
def test_next_working_day_skips_weekends_and_england_bank_holidays(start, expected, why):
    """One working day after a date skips weekends and every England bank holiday."""  # WT-6
    assert CAL.add_working_days(start, 1) == expected, why


def test_forty_five_working_days_across_christmas_and_new_year():
    """45 working days from 1 December 2025 lands after the Christmas and New Year holidays."""  # WT-6
    # 2-31 December: 22 weekdays less Christmas Day and Boxing Day = 20; 1 January is a holiday;
    # 2 January is the 21st, four full weeks make 41, and Monday 2 to Thursday 5 February the 45th.
    assert CAL.add_working_days(date(2025, 12, 1), 45) == date(2026, 2, 5)


def test_local_closure_days_do_not_count():
    """A local closure (e.g. a Christmas shutdown) is not a working day."""
    shut = WorkingCalendar([date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31)])
    assert shut.add_working_days(date(2025, 12, 24), 1) == date(2026, 1, 2)


@pytest.mark.parametrize("start,months,expected", [
    (date(2025, 1, 31), 3, date(2025, 4, 30)),
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
    (date(2025, 8, 31), 6, date(2026, 2, 28)),
    (date(2025, 3, 15), 6, date(2025, 9, 15)),
])
def test_months_clamp_to_the_end_of_the_month(start, months, expected):
    """'3 months after 31 January' is 30 April: the day is clamped to the month's end."""  # WT-6
    assert add_duration(CAL, start, months, "months") == expected


@settings(max_examples=150, deadline=None)
@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(1, 60))
def test_working_day_deadlines_never_fall_on_weekends_or_bank_holidays(start, days):
    """Counting in working days always lands on a working day, and counts back to the same number."""  # WT-6
    due = CAL.add_working_days(start, days)
    assert due.weekday() < 5 and CAL.is_working_day(due)
    assert CAL.working_days_between(start, due) == days


def _at(text: str) -> datetime:
    return parse_when(text)


def _tick(clock, text: str) -> datetime:
    """Move the clock to just after *text* and return *text* as the time of the action."""
    moment = parse_when(text)
    clock.now = moment + timedelta(minutes=1)
    return moment


def _items(cw, case_id: str, as_of: date) -> dict[str, dict]:
    return {i.name: i.to_dict() for i in due_items(cw, as_of) if i.case_id == case_id}


def test_referral_decision_is_due_the_next_working_day(sqlite_cw, clock):
    """A referral opened on Thursday before Easter must be decided by the Tuesday after."""  # WT-6
    add_standard_staff(sqlite_cw)
    service.open_case(sqlite_cw, "C-1", "national", "Erewash", "tm", at=_tick(clock, "2025-04-17T10:00"))
    item = _items(sqlite_cw, "C-1", date(2025, 4, 17))["referral_decision"]
    assert item["due"] == "2025-04-22" and item["rules"] == ["WT-6"] and not item["overdue"]
    assert item["working_days_left"] == 1
    late = _items(sqlite_cw, "C-1", date(2025, 4, 24))["referral_decision"]
    assert late["overdue"] and late["working_days_left"] == -2
    service.allocate(sqlite_cw, "C-1", "sw", "tm", at=_tick(clock, "2025-04-24T10:00"))
    service.move_case(sqlite_cw, "C-1", "decide_assessment", "tm", at=_tick(clock, "2025-04-24T11:00"))
    assert "referral_decision" not in _items(sqlite_cw, "C-1", date(2025, 4, 24))


def test_assessment_due_45_working_days_after_referral_and_met_by_completion(sqlite_cw, clock):
    """The assessment is due 45 working days after the referral; recording it clears the item."""  # WT-6
    add_standard_staff(sqlite_cw)
    service.open_case(sqlite_cw, "C-1", "national", "Erewash", "tm", at=_tick(clock, "2025-03-03T09:00"))
    service.allocate(sqlite_cw, "C-1", "sw", "tm", at=_tick(clock, "2025-03-03T10:00"))
    service.move_case(sqlite_cw, "C-1", "decide_assessment", "tm", at=_tick(clock, "2025-03-03T11:00"))
    item = _items(sqlite_cw, "C-1", date(2025, 3, 3))["assessment_complete"]
    assert item["due"] == CAL.add_working_days(date(2025, 3, 3), 45).isoformat() == "2025-05-08"
    service.record_fact(sqlite_cw, "C-1", "assessment_completed", "sw", at=_tick(clock, "2025-05-01T09:00"))
    assert "assessment_complete" not in _items(sqlite_cw, "C-1", date(2025, 5, 1))


def _to_cp_plan(cw, clock) -> None:
    case_in_cin_plan(cw)
    service.move_case(cw, "C-1", "escalate_to_strategy", "sw", reason="injury", at=_tick(clock, "2025-03-04T09:00"))
    service.move_case(cw, "C-1", "start_s47", "sw", at=_tick(clock, "2025-03-04T15:00"))


def test_icpc_due_15_working_days_after_the_strategy_discussion(sqlite_cw, clock):
    """The ICPC is due 15 working days after the strategy discussion that started the s47."""  # WT-6
    add_standard_staff(sqlite_cw)
    _to_cp_plan(sqlite_cw, clock)
    item = _items(sqlite_cw, "C-1", date(2025, 3, 25))["icpc_held"]
    assert item["due"] == "2025-03-25" and not item["overdue"] and item["working_days_left"] == 0
    assert _items(sqlite_cw, "C-1", date(2025, 3, 26))["icpc_held"]["overdue"]
    service.move_case(sqlite_cw, "C-1", "convene_icpc", "sw", at=_tick(clock, "2025-03-20T09:00"))
    assert "icpc_held" not in _items(sqlite_cw, "C-1", date(2025, 3, 26))


def test_cp_reviews_first_within_3_months_then_every_6(sqlite_cw, clock):
    """First CP review within 3 months of the ICPC; each review re-arms the next at 6 months."""  # WT-6
    add_standard_staff(sqlite_cw)
    _to_cp_plan(sqlite_cw, clock)
    service.move_case(sqlite_cw, "C-1", "convene_icpc", "sw", at=_tick(clock, "2025-03-20T09:00"))
    service.move_case(sqlite_cw, "C-1", "start_cp_plan", "sw", at=_tick(clock, "2025-03-31T10:00"))
    assert _items(sqlite_cw, "C-1", date(2025, 4, 1))["cp_review"]["due"] == "2025-06-30"
    service.move_case(sqlite_cw, "C-1", "hold_cp_review", "sw", at=_tick(clock, "2025-06-20T10:00"))
    assert _items(sqlite_cw, "C-1", date(2025, 6, 21))["cp_review"]["due"] == "2025-12-20"
    assert _items(sqlite_cw, "C-1", date(2025, 12, 22))["cp_review"]["overdue"]


def test_case_show_and_due_command_list_items_with_who_and_rule(sqlite_url, clock):
    """`casework due` lists case, due date, working days and the deadline's title in words, with who must act
    beneath; --overdue filters; --json keeps the identifiers."""
    cw = open_casework(sqlite_url, clock=clock)
    service.init_store(cw)
    add_standard_staff(cw)
    case_in_assessment(cw)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", sqlite_url, "due", "--as-of", "2025-03-03"])
    assert result.exit_code == 0
    assert "Single assessment complete (WT-6)" in result.stdout and "Thu 8 May 2025" in result.stdout
    assert "45 working days left" in result.stdout and "who: the case's lead practitioner" in result.stdout
    assert "assessment_complete" not in result.stdout
    late = runner.invoke(cli, ["--db", sqlite_url, "due", "--as-of", "2025-06-02", "--overdue", "--json"])
    assert [i["deadline"] for i in __import__("json").loads(late.stdout)] == ["assessment_complete"]
    shown = service.show_case(cw, "C-1")
    assert [d["deadline"] for d in shown["due"]] == ["assessment_complete"]


def _local(tmp_path, body: str):
    path = tmp_path / "local.yaml"
    path.write_text("name: local\nextends: national\nversion: 1\n" + body)
    return path


def test_not_overdue_blocks_a_move_and_says_why(sqlite_cw, clock, tmp_path):
    """A protocol may block step-down while the CIN review is overdue; the verdict says so."""
    _local(tmp_path, "events:\n  step_down:\n    requires:\n      - not_overdue: cin_review\n")
    cw = open_casework(str(sqlite_cw.store.url), machines=[tmp_path], clock=clock)
    add_standard_staff(cw)
    case_in_cin_plan(cw, policy="local")
    clock.advance(days=120)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(cw, "C-1", "step_down", "sw", reason="Needs met")
    unmet = refused.value.verdict.unmet
    assert [u.kind for u in unmet] == ["not_overdue"] and "overdue" in unmet[0].sentence
    service.move_case(cw, "C-1", "hold_cin_review", "sw")
    assert service.move_case(cw, "C-1", "step_down", "sw", reason="Needs met").case["state"] == "stepped_down"


@pytest.mark.parametrize("body,where", [
    ("deadlines:\n  x:\n    title: X\n    while_in: [nowhere]\n    start: {entered: referral}\n"
     "    within: {days: 3}\n", "deadlines.x.while_in[0]"),
    ("deadlines:\n  x:\n    title: X\n    while_in: [closed]\n    start: {entered: referral}\n"
     "    within: {days: 3}\n", "deadlines.x.while_in[0]"),
    ("deadlines:\n  x:\n    title: X\n    while_in: [cin_plan]\n    start: {entered: cin_plan}\n"
     "    within: {weeks: 0}\n", "deadlines.x.within"),
    ("deadlines:\n  x:\n    title: X\n    while_in: [cin_plan]\n    start: {entered: cin_plan}\n"
     "    within: {weeks: 4}\n    met_by: [{fact: supervison}]\n", "deadlines.x.met_by[0].fact"),
])
def test_bad_deadlines_are_refused_at_load_with_file_and_path(tmp_path, body, where):
    """An unknown state or fact, a zero cadence, or a deadline on a final state is refused at load."""
    with pytest.raises(InvalidDefinition) as bad:
        load_file(_local(tmp_path, body))
    text = str(bad.value)
    assert "local.yaml" in text and where in text


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 400), st.integers(0, 200))
def test_a_review_always_clears_the_overdue_cin_review(start_offset, review_offset):
    """Whatever the dates, holding the CIN review leaves no overdue cin_review on that day."""
    import tempfile

    from .conftest import Clock

    start = datetime(2024, 1, 1, 9, tzinfo=timezone.utc) + timedelta(days=start_offset)
    review = start + timedelta(days=review_offset, hours=1)
    clock = Clock(start + timedelta(minutes=1))
    with tempfile.TemporaryDirectory() as tmp:
        cw = open_casework(f"sqlite:///{tmp}/p.db", clock=clock)
        service.init_store(cw)
        add_standard_staff(cw)
        service.open_case(cw, "C-1", "national", "Erewash", "tm", at=start)
        service.allocate(cw, "C-1", "asw", "tm", at=start)
        service.move_case(cw, "C-1", "decide_assessment", "tm", at=start)
        service.record_fact(cw, "C-1", "assessment_completed", "asw", at=start)
        service.move_case(cw, "C-1", "start_cin_plan", "asw", at=start)
        clock.now = review + timedelta(hours=1)
        service.move_case(cw, "C-1", "hold_cin_review", "asw", at=review)
        items = [i for i in due_items(cw, review.date()) if i.name == "cin_review"]
        assert items and not items[0].overdue
        cw.store.dispose()


def test_back_dating_is_allowed_within_the_window_and_audited(sqlite_cw, clock):
    """A fact dated 10 days ago is kept and marked back-dated; 40 days ago is refused, nothing written."""
    from casework.errors import BadInput

    add_standard_staff(sqlite_cw)
    case_in_cin_plan(sqlite_cw)
    clock.advance(days=45)
    service.record_fact(sqlite_cw, "C-1", "home_visit", "sw", at=clock.now - timedelta(days=10))
    entry = service.case_history(sqlite_cw, "C-1")[-1]
    assert entry["action"] == "fact" and entry["payload"]["backdated"] is True
    before = service.case_history(sqlite_cw, "C-1")
    with pytest.raises(BadInput) as late:
        service.record_fact(sqlite_cw, "C-1", "home_visit", "sw", at=clock.now - timedelta(days=40))
    assert "30 days" in str(late.value)
    assert service.case_history(sqlite_cw, "C-1") == before
    service.record_fact(sqlite_cw, "C-1", "home_visit", "sw")
    assert "backdated" not in service.case_history(sqlite_cw, "C-1")[-1]["payload"]


def test_a_joint_visit_within_6_weeks_of_allocation_is_tracked_and_met(sqlite_cw, clock, tmp_path):
    """'At least once within N weeks of allocation': due from the allocation, met by the fact."""
    _local(tmp_path, "deadlines:\n  joint_visit:\n    title: Joint visit\n    while_in: [cin_plan]\n"
                     "    start: {event: allocate}\n    within: {weeks: 6}\n    met_by: [{fact: home_visit}]\n")
    cw = open_casework(str(sqlite_cw.store.url), machines=[tmp_path], clock=clock)
    add_standard_staff(cw)
    case_in_cin_plan(cw, policy="local")
    clock.advance(days=7)
    service.allocate(cw, "C-1", "sw2", "tm")
    item = _items(cw, "C-1", clock.now.date())["joint_visit"]
    assert item["due"] == (clock.now.date() + timedelta(weeks=6)).isoformat()
    service.record_fact(cw, "C-1", "home_visit", "sw2", with_staff=["tm"])
    assert "joint_visit" not in _items(cw, "C-1", clock.now.date())


def test_due_filters_by_team_and_by_the_person_holding_the_case(sqlite_cw, clock):
    """`due --team` keeps one team's cases; `--staff` keeps cases the person leads, supervises or works."""
    add_standard_staff(sqlite_cw)
    case_in_assessment(sqlite_cw, "C-1", lead="sw")
    case_in_assessment(sqlite_cw, "C-2", lead="sw2")
    service.open_case(sqlite_cw, "C-3", "national", "Amber Valley", "outsider")
    as_of = clock.now.date()
    assert {i.case_id for i in due_items(sqlite_cw, as_of)} == {"C-1", "C-2", "C-3"}
    assert {i.case_id for i in due_items(sqlite_cw, as_of, team="Amber Valley")} == {"C-3"}
    assert {i.case_id for i in due_items(sqlite_cw, as_of, staff="sw2")} == {"C-2"}
    result = CliRunner().invoke(cli, ["--db", str(sqlite_cw.store.url), "due", "--staff", "sw", "--json"])
    assert result.exit_code == 0 and {i["case"] for i in __import__("json").loads(result.stdout)} == {"C-1"}


def test_due_within_shows_what_falls_due_within_so_many_working_days(sqlite_url, clock):
    """`due --within N`: overdue items and those N working days away or nearer; more than 1300 is bad input."""
    cw = open_casework(sqlite_url, clock=clock)
    service.init_store(cw)
    add_standard_staff(cw)
    case_in_assessment(cw)  # single assessment due in 45 working days, on Thu 8 May 2025
    runner = CliRunner()

    def due(*args: str) -> list[str]:
        result = runner.invoke(cli, ["--db", sqlite_url, "due", "--as-of", "2025-03-03", "--json", *args])
        assert result.exit_code == 0, result.output
        return [i["deadline"] for i in __import__("json").loads(result.stdout)]

    assert due("--within", "44") == [] and due("--within", "45") == due() == ["assessment_complete"]
    late = runner.invoke(cli, ["--db", sqlite_url, "due", "--as-of", "2025-06-02", "--within", "0", "--json"])
    assert [i["deadline"] for i in __import__("json").loads(late.stdout)] == ["assessment_complete"]
    bad = runner.invoke(cli, ["--db", sqlite_url, "due", "--within", "1301"])
    assert bad.exit_code == 2 and "1301" in bad.output


def test_due_within_counts_a_local_deadline_in_its_own_working_days(sqlite_cw, clock, tmp_path):
    """A local deadline skips the protocol's closure days: 5 of its working days reach past 5 national ones,
    and `within` still finds it (its kept row lies beyond the national day)."""
    closures = [(date(2025, 3, 3) + timedelta(days=d)).isoformat() for d in range(1, 15)]
    _local(tmp_path, "closures: [" + ", ".join(closures) + "]\n"
           "deadlines:\n  first_visit:\n    title: First visit\n    while_in: [assessment]\n"
           "    start: {entered: assessment}\n    within: {working_days: 5}\n    met_by: [{fact: home_visit}]\n")
    cw = open_casework(str(sqlite_cw.store.url), machines=[tmp_path], clock=clock)
    add_standard_staff(cw)
    case_in_assessment(cw, policy="local")
    [item] = [i for i in due_items(cw, date(2025, 3, 3), within=5) if i.name == "first_visit"]
    assert item.working_days_left == 5 and item.due > CAL.add_working_days(date(2025, 3, 3), 5)
    assert not [i for i in due_items(cw, date(2025, 3, 3), within=4) if i.name == "first_visit"]
