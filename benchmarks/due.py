"""How long `casework due` takes over many open cases, and that history length does not matter.

Builds stores with N open cases of the national protocol (each with its markers and a
hash-chained audit history of H entries), then times ``oversight.due_items``.
Run: .venv/bin/python benchmarks/due.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casework.store import audit  # noqa: E402
from casework.store.schema import audit as audit_table, cases, markers, staff  # noqa: E402
from casework.workflow import service  # noqa: E402
from casework.workflow.clock import to_text  # noqa: E402
from casework.workflow.oversight import due_items  # noqa: E402
from casework.workflow.workspace import open_casework  # noqa: E402

STATES = ["referral", "assessment", "cin_plan", "s47_enquiry", "cp_plan"]
T0 = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)


def build(path: str, n_cases: int, history: int):
    cw = open_casework(f"sqlite:///{path}", clock=lambda: T0 + timedelta(days=200))
    service.init_store(cw)
    with cw.store.write() as conn:
        conn.execute(insert(staff), [{"id": "sw", "name": "S", "roles": '["social_worker"]', "team": "A",
                                      "registration": "SW1", "training": "[]", "updated_at": to_text(T0)}])
        case_rows, marker_rows, audit_rows = [], [], []
        for i in range(n_cases):
            cid, state = f"C-{i}", STATES[i % len(STATES)]
            at = T0 + timedelta(hours=i % 500)
            case_rows.append({"id": cid, "policy": "national", "team": "A", "state": state, "version": 1,
                              "opened_at": to_text(at), "state_entered_at": to_text(at), "lead_id": "sw",
                              "updated_at": to_text(at)})
            marker_rows += [{"case_id": cid, "marker": f"entered:{s}", "at": to_text(at)}
                            for s in sorted({"referral", state, "strategy_discussion"})]
            audit_rows += audit.chain_rows(f"case:{cid}", [
                {"recorded_at": to_text(at), "at": to_text(at), "actor": "sw", "action": "fact", "case_id": cid,
                 "event": "case_note", "payload": {"n": k}} for k in range(history)])
            if len(audit_rows) > 50_000:
                conn.execute(insert(audit_table), audit_rows)
                audit_rows = []
        conn.execute(insert(cases), case_rows)
        conn.execute(insert(markers), marker_rows)
        if audit_rows:
            conn.execute(insert(audit_table), audit_rows)
    return cw


def timed(cw, repeat: int = 5) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = len(due_items(cw, date(2025, 3, 1)))
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [(1000, 20), (2000, 20)] if args.quick else [(2500, 20), (5000, 20), (10000, 20), (10000, 40)]
    print("| open cases | audit entries | due items | `due_items` median (s) | per open case (µs) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n, h in sizes:
            cw = build(f"{tmp}/due-{n}-{h}.db", n, h)
            seconds, items = timed(cw)
            print(f"| {n:,} | {n * h:,} | {items:,} | {seconds:.3f} | {seconds / n * 1e6:.0f} |")
            cw.store.dispose()


if __name__ == "__main__":
    main()
