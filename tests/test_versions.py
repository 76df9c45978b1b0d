"""Protocol versions kept in the store (issue 13): a case is judged by the version it was opened under, whatever
the files on disk now say; no command hides or chokes on a case it cannot judge."""
from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.store import audit
from casework.workflow import service
from casework.errors import BadInput
from casework.workflow.oversight import due_items
from casework.workflow.workspace import open_casework

from .helpers import TEAM, add_standard_staff, workspace_with_protocol

_V1 = """name: edit_town
extends: national
version: 1
states:
  family_meeting:
    title: Family group meeting
    path: cin
events:
  hold_family_meeting:
    from: cin_plan
    to: family_meeting
    who: [{roles: [team_manager], qualified: true}]
  end_family_meeting:
    from: family_meeting
    to: cin_plan
    who: [{roles: [team_manager], qualified: true}]
"""
#: version 2 renames the local state and its events
_V2 = _V1.replace("version: 1", "version: 2").replace("family_meeting", "family_conference")


@pytest.fixture
def town(tmp_path, clock, store_url):
    """A store (SQLite and PostgreSQL) with E-1 under edit_town v1, in its local state family_meeting."""
    cw = workspace_with_protocol(tmp_path, store_url, clock, "edit_town", _V1)
    folder = tmp_path / "machines"
    service.open_case(cw, "E-1", "edit_town", TEAM, "tm")
    service.allocate(cw, "E-1", "sw", "tm")
    service.move_case(cw, "E-1", "decide_assessment", "tm")
    service.record_fact(cw, "E-1", "assessment_completed", "sw")
    service.move_case(cw, "E-1", "start_cin_plan", "sw")
    service.move_case(cw, "E-1", "hold_family_meeting", "tm")
    yield cw, folder, store_url, clock
    cw.store.dispose()


def _fresh(folder, url, clock):
    """A new process's workspace: it reads the files as they are now."""
    return open_casework(url, machines=[folder], clock=clock)


@pytest.mark.parametrize("edit", ["renamed", "deleted"])
def test_a_case_keeps_its_version_when_the_file_is_renamed_or_deleted(town, edit):
    """Every command still works on E-1 after its state is renamed in the file, or the file is deleted: the case
    runs under v1 from the store; a new case opens under v2 (or cannot open once the protocol is gone)."""
    cw, folder, url, clock = town
    v1 = service.show_case(cw, "E-1")["protocol_version"]
    if edit == "renamed":
        (folder / "edit_town.yaml").write_text(_V2)
    else:
        (folder / "edit_town.yaml").unlink()
    later = _fresh(folder, url, clock)
    shown = service.show_case(later, "E-1")
    assert (shown["state"], shown["state_title"], shown["protocol_version"]) == (
        "family_meeting", "Family group meeting", v1)
    assert [v.event for v in service.available(later, "E-1", "tm")] == ["end_family_meeting"]
    assert not [i for i in due_items(later) if i.name == "cannot_judge"]
    result = service.move_case(later, "E-1", "end_family_meeting", "tm")
    assert result.case["state"] == "cin_plan"
    assert service.case_history(later, "E-1")[-1]["policy_version"] == f"1@{v1[-13:-1]}"  # judged by v1
    if edit == "renamed":
        service.open_case(later, "E-2", "edit_town", TEAM, "tm")
        assert "v2" in service.show_case(later, "E-2")["protocol_version"]
    assert service.verify_audit(later).ok
    later.store.dispose()


def test_the_version_is_kept_whole_on_its_own_chain(town):
    """The first case opened under a version writes it, whole, to the store and to the 'definitions' chain; later
    cases under the same version add nothing."""
    cw, *_ = town
    service.open_case(cw, "E-3", "edit_town", TEAM, "tm")
    with cw.store.read() as conn:
        kept = [e for e in audit.entries(conn, "definitions") if e["event"] == "edit_town"]
    assert len(kept) == 1
    assert kept[0]["payload"]["digest"] == cw.policies.get("edit_town").digest
    assert "family_meeting" in kept[0]["payload"]["body"]["states"]


def test_a_case_opened_before_versions_were_kept_is_pinned_at_its_next_change(sqlite_cw):
    """A case row without a version follows the file until a change pins it, marked in that change's entry."""
    add_standard_staff(sqlite_cw)
    service.open_case(sqlite_cw, "L-1", "national", TEAM, "tm")
    with sqlite3.connect(sqlite_cw.store.path) as conn:
        conn.execute("UPDATE cases SET policy_digest = NULL")
    fresh = open_casework(sqlite_cw.store.url, clock=sqlite_cw.clock)
    service.allocate(fresh, "L-1", "sw", "tm")
    entry = service.case_history(fresh, "L-1")[-1]
    assert entry["payload"]["pinned"] == fresh.policies.get("national").digest
    with sqlite3.connect(sqlite_cw.store.path) as conn:
        assert conn.execute("SELECT policy_digest FROM cases").fetchone()[0] == entry["payload"]["pinned"]
    fresh.store.dispose()


def test_a_case_no_version_can_judge_is_listed_with_the_reason_never_hidden(town):
    """A case whose state its version lacks (a row edited, or a case from before versions were kept whose file
    changed): case show, due and case list still list it with why; a move is bad input, not a traceback."""
    cw, folder, url, clock = town
    with cw.store.write() as conn:
        conn.exec_driver_sql("UPDATE cases SET policy_digest = NULL WHERE id = 'E-1'")
    (folder / "edit_town.yaml").write_text(_V2)
    later = _fresh(folder, url, clock)
    shown = service.show_case(later, "E-1")
    assert shown["state_title"] is None and [d["deadline"] for d in shown["due"]] == ["cannot_judge"]
    assert "'family_meeting' is not one of edit_town v2" in shown["due"][0]["title"]
    assert [i.name for i in due_items(later) if i.case_id == "E-1"] == ["cannot_judge"]
    assert [c["id"] for c in service.list_cases(later)] == ["E-1"]
    with pytest.raises(BadInput, match="does not have"):
        service.move_case(later, "E-1", "end_family_meeting", "tm")
    with pytest.raises(BadInput, match="does not have"):
        service.available(later, "E-1", "tm")
    later.store.dispose()


def test_the_cli_shows_and_lists_a_case_whose_file_is_gone(tmp_path, clock):
    """Through the real CLI, without the --machines directory the case's protocol came from: case show and due
    work from the store's copy (exit 0), and no traceback."""
    folder = tmp_path / "machines"
    folder.mkdir()
    (folder / "edit_town.yaml").write_text(_V1)
    db = str(tmp_path / "cli.db")
    runner = CliRunner()

    def run(*args, machines=True):
        extra = ["--machines", str(folder)] if machines else []
        return runner.invoke(cli, ["--db", db, *extra, *args])

    assert run("init").exit_code == 0
    assert run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1",
               "--team", TEAM).exit_code == 0
    assert run("case", "open", "E-1", "--policy", "edit_town", "--team", TEAM, "--as", "tm").exit_code == 0
    shown = run("case", "show", "E-1", "--json", machines=False)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["protocol_version"].startswith("edit_town v1")
    due = run("due", "--json", machines=False)
    assert due.exit_code == 0 and "E-1" in due.output, due.output
    can = run("case", "can", "E-1", "--as", "tm", "--json", machines=False)
    assert can.exit_code == 0 and "decide_assessment" in can.output, can.output


def test_policy_versions_lists_each_version_with_its_cases(town):
    """`casework policy versions P`: each version kept, its digest, whether the files hold it now, its cases."""
    cw, folder, url, clock = town
    (folder / "edit_town.yaml").write_text(_V2)
    clock.advance(days=1)
    later = _fresh(folder, url, clock)
    service.open_case(later, "E-2", "edit_town", TEAM, "tm")
    from casework.workflow.policies import policy_versions

    found = policy_versions(later, "edit_town")
    assert [(v["version"], v["current"], v["cases"]) for v in found] == [
        ("1", False, {"family_meeting": 1}), ("2", True, {"referral": 1})]
    assert found[0]["digest"] == service.case_history(later, "E-1")[0]["payload"]["digest"]
    if later.store.is_sqlite:
        result = CliRunner().invoke(cli, ["--db", str(later.store.path), "--machines", str(folder),
                                          "policy", "versions", "edit_town"])
        assert result.exit_code == 0 and "family_meeting 1" in result.output and "yes" in result.output
    later.store.dispose()


def test_effective_dates_choose_the_version_a_new_case_opens_under(tmp_path, clock, sqlite_url):
    """A protocol's earlier versions sit in versions/<name>@<version>.yaml; a case opens under the version in
    effect on its opening day (a back-dated opening too), and a day no version covers is bad input."""
    folder = tmp_path / "machines"
    (folder / "versions").mkdir(parents=True)
    (folder / "edit_town.yaml").write_text(_V2.replace("version: 2", "version: 2\neffective_from: 2025-03-01"))
    (folder / "versions" / "edit_town@1.yaml").write_text(
        _V1.replace("version: 1", "version: 1\neffective_from: 2025-01-01\neffective_until: 2025-02-28"))
    cw = open_casework(sqlite_url, machines=[folder], clock=clock)
    service.init_store(cw)
    add_standard_staff(cw)
    service.open_case(cw, "N-1", "edit_town", TEAM, "tm")
    service.open_case(cw, "O-1", "edit_town", TEAM, "tm", at=clock.now.replace(day=1, month=2))
    assert service.show_case(cw, "N-1")["protocol_version"].startswith("edit_town v2")
    assert service.show_case(cw, "O-1")["protocol_version"].startswith("edit_town v1")
    assert "version_ended" in [i.name for i in due_items(cw, overdue_only=True) if i.case_id == "O-1"]
    assert "version_ended" not in [i.name for i in due_items(cw) if i.case_id == "N-1"]
    (folder / "edit_town.yaml").write_text(_V2.replace("version: 2", "version: 2\neffective_from: 2025-06-01"))
    later = open_casework(sqlite_url, machines=[folder], clock=clock)
    with pytest.raises(BadInput, match="No version of 'edit_town' is in effect on 2025-03-03"):
        service.open_case(later, "N-2", "edit_town", TEAM, "tm")
    cw.store.dispose()
    later.store.dispose()


def test_effective_dates_out_of_order_are_refused_and_never_inherited(tmp_path):
    """effective_until before effective_from names the file and the fix; a protocol extending a dated one does
    not take its dates."""
    from casework.errors import InvalidDefinition
    from casework.workflow.loader import Policies

    folder = tmp_path / "machines"
    folder.mkdir()
    (folder / "bad_dates.yaml").write_text("name: bad_dates\nextends: national\nversion: 1\n"
                                           "effective_from: 2025-05-01\neffective_until: 2025-04-01\n")
    (folder / "dated.yaml").write_text("name: dated\nextends: national\nversion: 1\neffective_until: 2025-04-01\n")
    (folder / "child.yaml").write_text("name: child\nextends: dated\nversion: 1\n")
    with pytest.raises(InvalidDefinition, match="bad_dates.yaml.*effective_until"):
        Policies([folder]).get("bad_dates")
    assert Policies([folder]).get("child").effective_until is None


def test_a_case_pointed_at_another_version_or_an_edited_version_shows_in_verify(town):
    """The versions kept and each case's pin are re-derived from the log like every guarded table: pointing a case
    at a laxer version, or editing a kept version's text, is reported; rebuild puts both back."""
    from casework.workflow.rebuilding import rebuild_projections

    cw, *_ = town
    national = cw.policies.get("national")
    service.open_case(cw, "N-1", "national", TEAM, "tm")  # keeps national's version too
    with cw.store.write() as conn:
        conn.exec_driver_sql(f"UPDATE cases SET policy_digest = '{national.digest}' WHERE id = 'E-1'")
        conn.exec_driver_sql("UPDATE definitions SET body = replace(body, 'Family group meeting', 'Anything') "
                             "WHERE name = 'edit_town'")
    report = service.verify_audit(cw)
    reasons = " ".join(b.reason for b in report.broken)
    assert not report.ok and "table cases: row E-1" in reasons and "table definitions" in reasons
    rebuild_projections(cw)
    assert service.verify_audit(cw).ok
    assert service.show_case(cw, "E-1")["state_title"] == "Family group meeting"


def test_a_case_on_an_older_version_shows_in_due_until_it_is_migrated(town):
    """Once the file holds v2, E-1 (on v1) has a 'newer_version' item, not overdue, naming the command; a migration
    to v2 (with the state mapped) clears it."""
    from casework.workflow.migration import MigrationPlan

    cw, folder, url, clock = town
    (folder / "edit_town.yaml").write_text(_V2)
    later = _fresh(folder, url, clock)
    [item] = [i for i in due_items(later) if i.case_id == "E-1"]
    assert (item.name, item.overdue) == ("newer_version", False)
    assert "casework policy migrate edit_town --to 2" in item.title
    assert "newer_version" in [d["deadline"] for d in service.show_case(later, "E-1")["due"]]
    service.migrate_cases(later, "edit_town", "2", "tm", plan=MigrationPlan({"family_meeting": "family_conference"}))
    assert not [i for i in due_items(later) if i.name == "newer_version"]
    later.store.dispose()


def test_a_version_forged_into_the_store_is_never_used(town):
    """The reviewer's attack: a row in definitions (with its digest right) that lets a social work assistant close
    cases, and E-1 pointed at it. casework refuses to judge by it (it loosens the national floor), cannot migrate
    onto it (no file holds it), and verify reports the row and the pin."""
    import hashlib

    from sqlalchemy import text

    cw, folder, url, clock = town
    with cw.store.read() as conn:
        [row] = [r for r in conn.exec_driver_sql("SELECT body FROM definitions WHERE name = 'edit_town'")]
    body = json.loads(row[0])
    body["version"] = "9"
    body["events"]["close"]["who"] = [{"roles": ["social_work_assistant"], "qualified": False, "relation": None,
                                       "team": None, "rules": [], "origin": "edit_town"}]
    forged = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    with cw.store.write() as conn:
        conn.execute(text("INSERT INTO definitions (digest, name, version, lineage, body, kept_at) VALUES "
                          "(:d, 'edit_town', '9', :l, :b, '2025-03-03T09:00:00+00:00')"),
                     {"d": forged, "l": json.dumps(["national", "edit_town"]), "b": json.dumps(body, sort_keys=True)})
        conn.exec_driver_sql(f"UPDATE cases SET policy_digest = '{forged}' WHERE id = 'E-1'")
    later = _fresh(folder, url, clock)
    shown = service.show_case(later, "E-1")
    assert [d["deadline"] for d in shown["due"]] == ["cannot_judge"] and "loosens the national floor" in \
        shown["due"][0]["title"]
    with pytest.raises(BadInput, match="loosens the national floor"):
        service.move_case(later, "E-1", "end_family_meeting", "swa")
    with pytest.raises(BadInput, match="files on offer"):
        service.migrate_cases(later, "edit_town", "9", "tm")
    reasons = " ".join(b.reason for b in service.verify_audit(later).broken)
    assert "table definitions" in reasons and "table cases: row E-1" in reasons
    later.store.dispose()
