"""Order and lifetime of evidence (#14), tried as a careless or hostile protocol writer and practitioner would:
malformed anchors, back-dating around an order, a request that comes again after its completion."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from casework.cli.main import cli
from casework.workflow import service
from casework.errors import RecordRefused, TransitionRefused
from casework.workflow.workspace import open_casework

HEADER = "name: ordered\nextends: national\nversion: 1\n"
#: a protocol of its own: an assessment requested and completed, and a CIN plan only on a completed one
ORDERED = HEADER + """
facts:
  assessment_requested:
    title: a specialist assessment was requested
    who: [{relation: allocated}]
    rules: [WT-4]
  specialist_assessment_done:
    title: the specialist assessment came back
    who: [{relation: allocated}]
    rules: [WT-4]
    requires:
      - fact_recorded: {fact: assessment_requested, since: state}
        rules: [WT-4]
events:
  start_cin_plan:
    requires:
      - none_of:
          - latest_fact: {of: [specialist_assessment_done, assessment_requested], is: assessment_requested}
        rules: [WT-4]
        says: No specialist assessment is still awaited
"""


def _check(tmp_path: Path, body: str):
    path = tmp_path / "ordered.yaml"
    path.write_text(HEADER + body)
    return CliRunner().invoke(cli, ["--db", str(tmp_path / "c.db"), "policy", "check", str(path)],
                              catch_exceptions=False)


@pytest.mark.parametrize("body, needles", [
    ("events:\n  close:\n    requires:\n      - fact_recorded: {fact: case_note, since: {event: clsoe}}\n",
     ["ordered.yaml", "clsoe"]),
    ("events:\n  close:\n    requires:\n"
     "      - fact_recorded: {fact: case_note, after: [{fact: case_note, event: close}]}\n",
     ["ordered.yaml", "exactly one of 'event', 'fact', 'entered' or 'holder'"]),
    ("events:\n  close:\n    requires:\n      - fact_recorded: {fact: case_note, since: {holder: partner}}\n",
     ["ordered.yaml", "holder"]),
    ("events:\n  close:\n    requires:\n      - latest_fact: {of: [case_note, home_visit], is: supervision}\n",
     ["ordered.yaml", "'is' ('supervision') must be one of 'of'"]),
    ("facts:\n  case_note:\n    with: [{relation: keyworker}]\n", ["ordered.yaml", "facts.case_note.with"]),
    ("facts:\n  case_note:\n    requires:\n      - fact_recorded: {fact: no_such_fact}\n", ["ordered.yaml", "no_such_fact"]),
])
def test_a_malformed_order_or_lifetime_names_the_file_and_the_place(tmp_path, body, needles):
    """A misspelt anchor, an anchor naming two moments, an unknown holder slot, a latest_fact whose 'is' is not in
    its set, a bad 'with' relation or a fact that requires an unknown fact: refused (exit 2), naming the file and
    the place."""  # WT-7
    result = _check(tmp_path, body)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.fixture
def ordered(tmp_path, clock):
    folder = tmp_path / "machines"
    folder.mkdir()
    (folder / "ordered.yaml").write_text(ORDERED)
    cw = open_casework(f"sqlite:///{tmp_path / 'c.db'}", machines=[folder], clock=lambda: clock.now)
    service.init_store(cw)
    service.add_staff(cw, "tm", "T", ["team_manager"], team="A", registration="SW1")
    service.add_staff(cw, "sw", "S", ["social_worker"], team="A", registration="SW2", actor="tm")
    service.open_case(cw, "C-1", "ordered", "A", "tm")
    service.allocate(cw, "C-1", "sw", "tm")
    service.move_case(cw, "C-1", "decide_assessment", "tm")
    service.record_fact(cw, "C-1", "assessment_completed", "sw")
    yield cw
    cw.store.dispose()


def test_requested_completed_then_requested_again_reads_as_awaited(ordered, clock):
    """The latest of a set decides: requested → done allows the plan; requested again blocks it until done
    again."""  # WT-4
    service.record_fact(ordered, "C-1", "assessment_requested", "sw")
    clock.advance(hours=1)
    with pytest.raises(TransitionRefused) as refused:
        service.move_case(ordered, "C-1", "start_cin_plan", "sw")
    unmet = next(u for u in refused.value.verdict.unmet if u.kind == "none_of")
    assert unmet.sentence.startswith("No specialist assessment is still awaited") and "WT-4" in unmet.rules
    assert "S (social worker, sw)" in unmet.who_could and "specialist_assessment_done" in unmet.who_could
    service.record_fact(ordered, "C-1", "specialist_assessment_done", "sw")
    clock.advance(hours=1)
    service.record_fact(ordered, "C-1", "assessment_requested", "sw")
    clock.advance(hours=1)
    assert not service.explain(ordered, "C-1", "start_cin_plan", "sw").allowed
    service.record_fact(ordered, "C-1", "specialist_assessment_done", "sw")
    clock.advance(hours=1)
    assert service.move_case(ordered, "C-1", "start_cin_plan", "sw").case["state"] == "cin_plan"


def test_back_dating_cannot_put_a_step_before_the_one_it_follows(ordered, clock):
    """A fact dated (--at) before the fact it must follow is refused: only what is dated at or before an action
    counts for it, so back-dating cannot reorder the steps."""  # WT-4 WT-7
    clock.advance(days=2)
    service.record_fact(ordered, "C-1", "assessment_requested", "sw")
    with pytest.raises(RecordRefused) as refused:
        service.record_fact(ordered, "C-1", "specialist_assessment_done", "sw", at=clock.now - timedelta(days=1))
    assert any(u.kind == "fact_recorded" and "a specialist assessment was requested" in u.sentence
               for u in refused.value.verdict.unmet)
    service.record_fact(ordered, "C-1", "specialist_assessment_done", "sw")
