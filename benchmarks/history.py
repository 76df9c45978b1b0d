"""What an action costs as a case's history grows (issue 16): record a fact and allocate at 0 to 10,000 facts
and as many earlier allocations.

Each size is a store whose one case already carries that many facts and that many allocations
(hand-overs between two social workers), written straight into the tables as record_fact and
allocate write them. Every timed action starts cold, as a CLI command does: the
workspace's snapshots are cleared first, so the case is read from the store. Rounds interleave
the sizes; each figure is the median of the rounds, with the spread (lowest-highest).

Run: .venv/bin/python benchmarks/history.py [--rounds N] [--sizes 0 1000 10000]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casework.store import records  # noqa: E402
from casework.workflow import service  # noqa: E402
from casework.workflow.clock import to_text  # noqa: E402
from casework.workflow.workspace import open_casework  # noqa: E402

T0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


def build(path: str, facts: int):
    clock = {"now": T0 + timedelta(days=1)}
    cw = open_casework(path, clock=lambda: clock["now"])
    service.init_store(cw)
    for sid, roles, reg in (("tm", ["team_manager"], "SW1"), ("sw", ["social_worker"], "SW2"),
                            ("sw2", ["social_worker"], "SW3")):
        service.add_staff(cw, sid, sid, roles, team="A", registration=reg, actor=None if sid == "tm" else "tm")
    service.open_case(cw, "C-1", "national", "A", "tm", at=T0)
    service.allocate(cw, "C-1", "sw", "tm", at=T0)
    with cw.store.write() as conn:
        for i in range(facts):
            at = to_text(T0 + timedelta(seconds=i))
            records.insert_fact(conn, {"case_id": "C-1", "name": ("case_note", "visit", "assessment_completed")[i % 3],
                                       "at": at, "recorded_at": at, "by_id": "sw", "with_ids": [], "note": "",
                                       "state": "referral"})
        records.set_markers(conn, "C-1", {"fact:assessment_completed": to_text(T0 + timedelta(seconds=facts))})
        for i in range(facts):  # as many hand-overs: sw2, sw, sw2, ... and back to sw
            at, lead = to_text(T0 + timedelta(seconds=i)), ("sw2", "sw")[i % 2 if i < facts - 1 else 1]
            records.insert_allocation(conn, {"case_id": "C-1", "at": at, "by_id": "tm", "reason": None,
                                             "lead_id": lead, "supervisor_id": None, "worker_id": None})
            if hasattr(records, "take_slots"):  # the holders rows (since 2026-12-03), as allocate keeps them
                records.take_slots(conn, "C-1", 2, at, {"lead": lead})
    return cw, clock


def timed(cw, clock, what: str) -> float:
    clock["now"] += timedelta(minutes=1)
    cw.snapshots.clear()
    start = time.perf_counter()
    if what == "record":
        service.record_fact(cw, "C-1", "assessment_completed", "sw")
    else:
        service.allocate(cw, "C-1", "sw2" if clock["now"].minute % 2 else "sw", "tm")
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 1000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores = {n: build(f"{tmp}/h{n}.db", n) for n in args.sizes}
        found: dict[tuple[str, int], list[float]] = {}
        for _ in range(args.rounds):
            for what in ("record", "allocate"):
                for n, (cw, clock) in stores.items():
                    found.setdefault((what, n), []).append(timed(cw, clock, what))
    print("| action (cold, SQLite file) | facts and allocations on the case | median ms | spread ms |")
    print("| --- | ---: | ---: | ---: |")
    for (what, n), times in found.items():
        print(f"| {what} | {n:,} | {statistics.median(times):.2f} | {min(times):.2f}-{max(times):.2f} |")


if __name__ == "__main__":
    main()
