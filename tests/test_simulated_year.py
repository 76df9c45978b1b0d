"""The simulator's year as test data (issue 16): a small, seeded year across the five protocols, imported in bulk
and made one by one, gives the same store; every action gets the verdict the generator meant; the log verifies,
replays without a discrepancy, and the kept due dates say what judging every case says."""
from __future__ import annotations

from datetime import date, timedelta, timezone
from functools import partial

import pytest

from casework.errors import CaseworkError, Refused
from casework.workflow import bulk, service
from casework.workflow.actions_file import to_line
from casework.workflow.oversight import due_items, recomputed_due_items
from casework.workflow.replay import replay
from casework.workflow.workspace import open_casework

from benchmarks.simulate import _Year

from .test_bulk import _contents


pytestmark = pytest.mark.slow

START = date(2024, 10, 7)


def test_a_simulated_year_is_the_same_in_bulk_and_one_by_one_and_stands_every_check(tmp_path):
    year = _Year(30, 7, START)
    actions, meant = [r[3] for r in year.rows], [r[4] for r in year.rows]
    lines = [to_line(a) for a in actions]
    assert len({r[2].p for r in year.rows if r[2]}) == 5, "every protocol takes part"

    alone = open_casework(str(tmp_path / "alone.db"), clock=lambda: actions[0].at, simulated=True)
    service.init_store(alone, sandbox=True)
    got = []
    for action in actions:
        alone.clock = partial(lambda moment: moment, action.at.astimezone(timezone.utc))
        try:
            bulk.apply_one(alone, action)
            got.append(False)
        except Refused:
            got.append(True)
        except CaseworkError as exc:  # the generator writes nothing that cannot be done
            raise AssertionError(f"{to_line(action)}: {exc}") from None
    assert got == meant and any(meant)

    batched = open_casework(str(tmp_path / "bulk.db"), clock=lambda: actions[0].at, simulated=True)
    service.init_store(batched, sandbox=True)
    report = bulk.apply(batched, lines, group=50, clock_from_file=True)
    assert sorted(p.line - 1 for p in report.problems) == [i for i, m in enumerate(meant) if m]
    assert {p.kind for p in report.problems} == {"refused"}
    assert _contents(batched) == _contents(alone)

    for cw in (alone, batched):
        cw.clock = lambda: actions[-1].at
        assert service.verify_audit(cw).ok
        assert replay(cw).discrepancies == ()
        for day in (actions[-1].at.date(), actions[-1].at.date() + timedelta(days=60)):
            assert due_items(cw, day) == recomputed_due_items(cw, day)
        cw.store.dispose()
