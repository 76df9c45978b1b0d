"""The bulk path (issue 16): `casework import` and bulk.apply judge every line as the one-by-one call would,
commit in groups, report refused and bad lines by number, and lose nothing when the store fails."""
from __future__ import annotations

import json
from functools import partial
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.cli.main import cli
from casework.errors import CaseworkError, StoreNotReady
from casework.store import records
from casework.store.audit import all_entries
from casework.workflow import bulk, service
from casework.workflow.actions_file import parse_line
from casework.workflow.workspace import open_casework

T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


def _at(hours: int) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def _line(**fields) -> str:
    return json.dumps(fields)


#: a national case from referral to a CIN plan led by a community care worker, with a refused escalation
#: (the CCW may not lead child protection, WT-5), a malformed line, an unknown case and a duplicate opening
SCRIPT = [
    _line(do="staff", id="tess", name="Tess Manning", roles=["team_manager"], registration="SW100001"),
    _line(do="staff", id="sam", name="Sam Okafor", roles=["social_worker"], registration="SW100002", **{"as": "tess"}),
    _line(do="staff", id="ana", name="Ana Lima", roles=["community_care_worker"], **{"as": "tess"}),
    _line(do="open", case="N-1", policy="national", team="North", at=_at(0), **{"as": "tess"}),
    _line(do="allocate", case="N-1", lead="sam", reason="Duty social worker", at=_at(1), **{"as": "tess"}),
    _line(do="move", case="N-1", event="decide_assessment", at=_at(2), **{"as": "tess"}),
    "{not json",
    _line(do="record", case="N-1", fact="assessment_completed", note="Housing need", at=_at(30), **{"as": "sam"}),
    _line(do="move", case="N-1", event="start_cin_plan", at=_at(31), **{"as": "sam"}),
    _line(do="record", case="N-1", fact="lead_agreed_with_partners", at=_at(32), **{"as": "tess"}),
    _line(do="allocate", case="N-1", lead="ana", supervisor="sam", reason="Housing need", at=_at(33),
          **{"as": "tess"}),
    _line(do="record", case="N-1", fact="escalation_raised", note="Bruising", at=_at(40), **{"as": "ana"}),
    _line(do="move", case="N-1", event="escalate_to_strategy", reason="Bruising", at=_at(41), **{"as": "ana"}),
    _line(do="move", case="N-9", event="start_cin_plan", at=_at(42), **{"as": "sam"}),
    _line(do="open", case="N-1", policy="national", team="North", at=_at(43), **{"as": "tess"}),
    _line(do="allocate", case="N-1", lead="sam", supervisor=None, reason="Need escalated", at=_at(44),
          **{"as": "tess"}),
    _line(do="move", case="N-1", event="escalate_to_strategy", reason="Bruising", at=_at(45), **{"as": "sam"}),
    _line(do="team", name="North", **{"as": "tess"}),
    _line(do="team", name="South", **{"as": "tess"}),
    _line(do="transfer", case="N-1", team="South", reason="The family moved", at=_at(46), **{"as": "tess"}),
    _line(do="open", case="N-2", policy="national", team="Nowhere", at=_at(47), **{"as": "tess"}),
    _line(do="open", case="N-2", policy="national", team="North", at=_at(48), **{"as": "tess"}),
    _line(do="close", case="N-2", reason_code="RC8", note="Needs met", at=_at(49), **{"as": "tess"}),
    _line(do="transfer", case="N-2", team="South", reason="Closed, but asked", at=_at(50), **{"as": "tess"}),
]
#: line numbers (1-based) and how each is reported: a bad line, a refusal (WT-5), an unknown case, a duplicate
#: opening, an undeclared team once teams are declared, and a transfer of a closed case
EXPECTED = {7: "bad input", 13: "refused", 14: "bad input", 15: "conflict", 21: "bad input", 24: "refused"}


def _sandbox(path) -> "service.Casework":
    cw = open_casework(str(path), clock=lambda: T0, simulated=True)
    service.init_store(cw, sandbox=True)
    return cw


def _one_by_one(cw, lines) -> dict[int, str]:
    """Each line through bulk.apply_one in its own transaction, the clock at its 'at': what went wrong, by line."""
    found = {}
    for number, text in enumerate(lines, 1):
        try:
            action = parse_line(text, number)
            if action.at is not None:
                cw.clock = partial(lambda moment: moment, action.at.astimezone(timezone.utc))
            bulk.apply_one(cw, action)
        except CaseworkError as exc:
            found[number] = type(exc).__name__
    return found


def _contents(cw) -> dict[str, list]:
    """Every row the guards read and every audit entry, in order (ids left out: they are the store's own)."""
    with cw.store.read() as conn:
        found = {t: sorted(json.dumps({k: v for k, v in r.items() if k != "id"}, sort_keys=True, default=str)
                           for r in records.rows_of(conn, t))
                 for t in ("staff", "cases", "allocations", "facts", "markers", "definitions", "settings")}
        found["audit"] = [{k: v for k, v in e.items() if k != "id"} for e in all_entries(conn)]
    return found


def test_the_bulk_path_makes_the_same_store_as_the_same_actions_one_by_one(tmp_path):
    """Bulk in groups of 4 and one transaction per action give the same rows, the same audit entries in the same
    order with the same verdicts (and, the clock following the file, the same times and hashes)."""
    alone, batched = _sandbox(tmp_path / "alone.db"), _sandbox(tmp_path / "bulk.db")
    failures = _one_by_one(alone, SCRIPT)
    report = bulk.apply(batched, SCRIPT, group=4, clock_from_file=True)
    assert {p.line: p.kind for p in report.problems} == EXPECTED
    assert set(failures) == set(EXPECTED)
    assert report.applied == len(SCRIPT) - len(EXPECTED) and report.committed_through == len(SCRIPT)
    assert _contents(batched) == _contents(alone)
    assert service.verify_audit(batched).ok
    refused = next(p for p in report.problems if p.kind == "refused")
    assert "WT-5" in json.dumps(refused.verdict)
    assert refused.message.startswith("Ana Lima (community care worker) may not escalate to a strategy discussion")
    assert [e["action"] for e in service.case_history(batched, "N-1")].count("refused") == 1


def test_a_failure_of_the_store_keeps_the_committed_groups_and_says_where_to_start_again(tmp_path):
    """The disk fills mid-import: the groups committed stay whole, the group under way leaves nothing, and the
    error names the line to resume from; resuming there gives the store the whole file would have."""
    cw = _sandbox(tmp_path / "full.db")
    filler = [_line(do="open", case=f"F-{i}", policy="national", team="North" * 11, at=_at(i), **{"as": "tess"})
              for i in range(400)]
    lines = SCRIPT[:3] + filler
    with cw.store.read() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    cw.store._backend.writer().execute(f"PRAGMA max_page_count={pages + 40}")  # a small disk
    with pytest.raises(StoreNotReady) as stopped:
        bulk.apply(cw, lines, group=25, clock_from_file=True)
    resume = int(str(stopped.value).rsplit("--from-line ", 1)[1].rstrip("."))
    with cw.store.read() as conn:
        opened = records.list_cases(conn)
    assert 3 < resume < len(lines) and (resume - 1) % 25 == 0
    assert len(opened) == resume - 4, "exactly the lines before the resume line are in the store"
    assert service.verify_audit(cw).ok
    cw.store._backend.writer().execute("PRAGMA max_page_count=1073741823")
    report = bulk.apply(cw, lines, group=25, clock_from_file=True, start=resume)
    assert report.problems == [] and report.applied == len(lines) - resume + 1
    with cw.store.read() as conn:
        assert len(records.list_cases(conn)) == len(filler)


def test_the_file_clock_is_for_sandboxes_only_and_elsewhere_actions_are_recorded_now(tmp_path, clock):
    """On a real store the file cannot set 'now'; its lines are recorded now, dated within the back-dating window."""
    cw = open_casework(str(tmp_path / "real.db"), clock=clock)
    service.init_store(cw)
    with pytest.raises(CaseworkError, match="only for training sandboxes"):
        bulk.apply(cw, SCRIPT, clock_from_file=True)
    recent = [_line(do="staff", id="tess", name="Tess", roles=["team_manager"], registration="SW1"),
              _line(do="open", case="R-1", policy="national", team="North",
                    at=(clock.now - timedelta(days=1)).isoformat(), **{"as": "tess"}),
              _line(do="open", case="R-2", policy="national", team="North",
                    at=(clock.now - timedelta(days=400)).isoformat(), **{"as": "tess"})]
    report = bulk.apply(cw, recent)
    assert [(p.line, p.kind) for p in report.problems] == [(3, "bad input")]
    assert "back-dating" in report.problems[0].message
    [opened] = [e for e in service.case_history(cw, "R-1") if e["action"] == "open"]
    assert opened["recorded_at"].startswith(clock.now.date().isoformat()) and opened["payload"]["backdated"]


def test_import_through_the_cli_reports_each_line_and_exits_with_the_worst(tmp_path):
    """`casework import` prints every line not done with its number, and exits 2 for a bad line (before 3 and 1)."""
    db, source = str(tmp_path / "cli.db"), tmp_path / "actions.jsonl"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init", "--sandbox"]).exit_code == 0
    source.write_text("\n".join(SCRIPT) + "\n")
    result = runner.invoke(cli, ["--db", db, "import", str(source), "--group", "3", "--clock-from-file"])
    assert result.exit_code == 2, result.output
    assert "Line 7 (bad input): Line 7: not JSON" in result.stderr
    assert "Line 13 (refused): Ana Lima (community care worker) may not escalate to a strategy discussion" in result.stderr
    assert f"Imported {len(SCRIPT) - len(EXPECTED)} actions; {len(EXPECTED)} lines not done." in result.stdout
    again = runner.invoke(cli, ["--db", db, "import", "-", "--json", "--clock-from-file"],
                          input=_line(do="move", case="N-1", event="start_s47", at=_at(50), **{"as": "ana"}))
    assert again.exit_code == 1 and json.loads(again.stdout)["problems"][0]["kind"] == "refused"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(range(len(SCRIPT))), min_size=1, max_size=25), st.integers(1, 6))
def test_any_mix_of_lines_gives_the_same_store_in_bulk_as_one_by_one(tmp_path_factory, picks, group):
    """Whatever the order of the lines (refusals, bad lines and conflicts among them) and the group size,
    the bulk store equals the one-by-one store: a failed line's savepoint never takes another line with it."""
    folder = tmp_path_factory.mktemp("mix")
    lines = SCRIPT[:3] + [SCRIPT[i] for i in picks]
    alone, batched = _sandbox(folder / "alone.db"), _sandbox(folder / "bulk.db")
    failures = _one_by_one(alone, lines)
    report = bulk.apply(batched, lines, group=group, clock_from_file=True)
    assert {p.line for p in report.problems} == set(failures)
    assert _contents(batched) == _contents(alone)
    alone.store.dispose(), batched.store.dispose()


def test_bulk_on_postgresql_rolls_back_only_the_failed_line(fresh_postgres_url):
    """On PostgreSQL an error aborts the transaction: the savepoint must recover it so that the group goes on."""
    cw = open_casework(fresh_postgres_url)
    service.init_store(cw, sandbox=True, authentication="declared")
    cw.simulated, cw.clock = True, (lambda: T0)
    report = bulk.apply(cw, SCRIPT, group=100, clock_from_file=True)
    assert {p.line: p.kind for p in report.problems} == EXPECTED
    assert service.show_case(cw, "N-1")["state"] == "strategy_discussion"
    assert service.verify_audit(cw).ok
    cw.store.dispose()


def _importer(url, lines, barrier, out):
    cw = open_casework(url)
    try:
        barrier.wait()
        report = bulk.apply(cw, lines, group=10)
        out.put([(p.line, p.kind) for p in report.problems])
    finally:
        cw.store.dispose()


def test_two_imports_allocating_the_same_people_in_opposite_orders_both_finish(fresh_postgres_url):
    """Each import holds one person's row and waits for the other's (a deadlock): the loser commits what it has,
    which frees the other, and does its line again; every line is done (found by the simulator, 2 runs in 3)."""
    import multiprocessing

    cw = open_casework(fresh_postgres_url)
    service.init_store(cw, authentication="declared")
    service.add_staff(cw, "tm", "Tess", ["team_manager"], team="A", registration="SW1")
    for sw in ("sw1", "sw2"):
        service.add_staff(cw, sw, sw, ["social_worker"], team="A", registration=f"SW2{sw[-1]}", actor="tm")
    for case_id in ("A-1", "A-2", "B-1", "B-2"):
        service.open_case(cw, case_id, "national", "A", "tm")

    def alloc(case_id, lead):
        return _line(do="allocate", case=case_id, lead=lead, **{"as": "tm"})
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(2), context.Queue()
    jobs = [context.Process(target=_importer, args=(fresh_postgres_url, lines, barrier, out))
            for lines in ([alloc("A-1", "sw1"), alloc("A-2", "sw2")], [alloc("B-1", "sw2"), alloc("B-2", "sw1")])]
    for job in jobs:
        job.start()
    outcomes = [out.get(timeout=120) for _ in jobs]
    for job in jobs:
        job.join(timeout=120)
    assert outcomes == [[], []]
    assert {c["id"]: c["lead_id"] for c in service.list_cases(cw)} == {"A-1": "sw1", "A-2": "sw2", "B-1": "sw2",
                                                                       "B-2": "sw1"}
    assert service.verify_audit(cw).ok
    cw.store.dispose()
