"""Hypothesis (issue 13): random edits of a protocol file under live cases never leave a case that a command cannot
show. Whatever the file now says (states renamed or removed, events dropped, the file deleted or unreadable), every
case is shown, listed in due when open, and every move is either judged or refused as bad input with a reason."""
from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.workflow import service
from casework.errors import CaseworkError
from casework.workflow.oversight import due_items
from casework.workflow.workspace import open_casework

from .conftest import START, Clock
from .helpers import TEAM, add_standard_staff, walk_to_cin_plan
from .test_versions import _V1

#: edits a practice lead might make to the file: each a function of its text
EDITS = {
    "rename the local state": lambda t: t.replace("family_meeting", "family_forum"),
    "drop the way back": lambda t: t.split("  end_family_meeting:")[0],
    "bump the version": lambda t: t.replace("version: 1", "version: 7"),
    "break the YAML": lambda t: t + "\n  - : [",
    "widen who may act": lambda t: t.replace("roles: [team_manager], qualified: true", "roles: [social_work_assistant]"),
    "end it yesterday": lambda t: t.replace("version: 1", "version: 3\neffective_until: 2025-03-02"),
    "delete the file": lambda t: None,
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A SQLite store with cases at each stage under edit_town v1 (one in its local state), built once."""
    root = tmp_path_factory.mktemp("edits")
    (root / "machines").mkdir()
    (root / "machines" / "edit_town.yaml").write_text(_V1)
    cw = open_casework(f"sqlite:///{root / 'base.db'}", machines=[root / "machines"], clock=Clock())
    service.init_store(cw)
    add_standard_staff(cw)
    service.open_case(cw, "R-1", "edit_town", TEAM, "tm")
    walk_to_cin_plan(cw, "P-1", "edit_town", TEAM, "tm", "sw")
    walk_to_cin_plan(cw, "F-1", "edit_town", TEAM, "tm", "sw")
    service.move_case(cw, "F-1", "hold_family_meeting", "tm")
    cw.store.dispose()
    return root


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=3), unpin=st.booleans())
def test_no_edit_of_the_file_leaves_a_case_a_command_cannot_show(prepared, tmp_path, edits, unpin):
    """*unpin* also plays a store from before versions were kept (cases follow the file)."""
    work = Path(tempfile.mkdtemp(dir=tmp_path)) / "store"
    shutil.copytree(prepared, work)
    text: str | None = _V1
    for edit in edits:
        text = EDITS[edit](text) if text is not None else None
    target = work / "machines" / "edit_town.yaml"
    if text is None:
        target.unlink()
    else:
        target.write_text(text)
    clock = Clock(START + timedelta(days=1))
    cw = open_casework(f"sqlite:///{work / 'base.db'}", machines=[work / "machines"], clock=clock)
    if unpin:
        with cw.store.write() as conn:
            conn.exec_driver_sql("UPDATE cases SET policy_digest = NULL")
    try:
        shown = {c: service.show_case(cw, c) for c in ("R-1", "P-1", "F-1")}  # never raises
        due = due_items(cw)
        for case_id, summary in shown.items():
            assert summary["id"] == case_id and summary["state"]
            if summary["state_title"] is None:  # not judged: said so, in case show and in due
                assert [d["deadline"] for d in summary["due"]] == ["cannot_judge"]
                assert any(i.case_id == case_id and i.name == "cannot_judge" for i in due)
            try:
                verdicts = service.available(cw, case_id, "tm")
                assert all(v.case_id == case_id for v in verdicts)
            except CaseworkError as exc:  # bad input that says what to restore, never a traceback
                assert exc.exit_code == 2 and str(exc)
        if not unpin:  # pinned cases run under v1 whatever the file says
            assert all(s["protocol_version"].startswith("edit_town v1") for s in shown.values())
            assert shown["F-1"]["state_title"] == "Family group meeting"
            assert service.move_case(cw, "F-1", "end_family_meeting", "tm").case["state"] == "cin_plan"
            assert service.verify_audit(cw).ok
        else:  # blanking the pins is itself an edit of the tables, and verify says so, case by case
            assert {b.chain for b in service.verify_audit(cw).broken} == {"case:R-1", "case:P-1", "case:F-1"}
    finally:
        cw.store.dispose()
