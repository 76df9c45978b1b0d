"""How long `casework due` takes over many open cases: the command, and the kept due dates against a recompute.

Builds stores with N open cases of the national protocol (each with its markers and a hash-chained
audit history of H entries, written straight into the tables), lets ``casework init`` make their kept
due dates, then times, as medians of interleaved rounds with their spread: the whole ``casework due``,
``casework due --within 10`` and ``casework due --overdue`` commands as fresh processes,
``oversight.due_items`` in process, and ``oversight.recomputed_due_items`` (every open case judged whole,
what ``due`` did before issue 16). Each case entered its state a while before the day asked about, spread
over a little more than its deadline's span, so a few percent are overdue, as in practice.
Run: .venv/bin/python benchmarks/due.py [--quick] [--sizes 1000 10000 ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casework.store import audit  # noqa: E402
from casework.store.schema import audit as audit_table, cases, markers, staff  # noqa: E402
from casework.workflow import service, versions  # noqa: E402
from casework.workflow.clock import to_text  # noqa: E402
from casework.workflow.oversight import due_items, recomputed_due_items  # noqa: E402
from casework.workflow.workspace import open_casework  # noqa: E402

STATES = ["referral", "assessment", "cin_plan", "s47_enquiry", "cp_plan"]
T0 = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)
#: the day `due` is asked on, and the oldest a case may be in each state (calendar days): a referral is decided
#: within a day, an assessment within 45 working days, an ICPC within 15, a CIN or CP review within 3 months
AS_OF = date(2025, 3, 3)
NOW = datetime(2025, 3, 3, 8, tzinfo=timezone.utc)
AGES = {"referral": 2, "assessment": 70, "cin_plan": 95, "s47_enquiry": 23, "cp_plan": 95}


def build(path: str, n_cases: int, history: int):
    cw = open_casework(f"sqlite:///{path}", clock=lambda: T0 + timedelta(days=200))
    service.init_store(cw)
    digest = cw.versions.current("national").digest
    with cw.store.write() as conn:
        versions.keep(conn, cw.versions.current("national"), "sw", "benchmark", to_text(T0))

        conn.execute(insert(staff), [{"id": "sw", "name": "S", "roles": '["social_worker"]', "team": "A",
                                      "registration": "SW1", "training": "[]", "updated_at": to_text(T0)}])
        case_rows, marker_rows, audit_rows = [], [], []
        for i in range(n_cases):
            cid, state = f"C-{i}", STATES[i % len(STATES)]
            # how long ago the case entered its state, spread over a little more than its deadline's span, so
            # that a few percent are overdue and the rest fall due over the weeks ahead, as in practice
            at = NOW - timedelta(days=(i * 7919) % AGES[state], hours=i % 7)
            case_rows.append({"id": cid, "policy": "national", "team": "A", "state": state, "version": 1,
                              "opened_at": to_text(at), "state_entered_at": to_text(at), "lead_id": "sw",
                              "updated_at": to_text(at), "policy_digest": digest})
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



def _command(path: str, *extra: str) -> float:
    env = {**os.environ, "CASEWORK_CLOCK": AS_OF.isoformat()}
    start = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "casework"), "--db", path, "due", "--as-of",
                           AS_OF.isoformat(), *extra], capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return took


def _in_process(fn, cw) -> tuple[float, int]:
    start = time.perf_counter()
    count = len(fn(cw, AS_OF))
    return time.perf_counter() - start, count


def _shown(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = args.sizes or ([1000, 5000] if args.quick else [1000, 10000, 50000, 100000])
    print("| open cases | items due (within 10 working days, overdue) | `casework due` s | `due --within 10` s | "
          "`due --overdue` s | `due_items` s | recomputed, every case whole s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = f"{tmp}/due-{n}.db"
            cw = build(path, n, 2)
            service.init_store(cw)  # makes the kept due dates of a store written straight into its tables
            assert due_items(cw, AS_OF) == recomputed_due_items(cw, AS_OF)
            found: dict[str, list[float]] = {}
            items = overdue = 0
            for _ in range(args.rounds):
                found.setdefault("command", []).append(_command(path))
                found.setdefault("within", []).append(_command(path, "--within", "10"))
                found.setdefault("overdue", []).append(_command(path, "--overdue"))
                took, items = _in_process(due_items, cw)
                found.setdefault("kept", []).append(took)
                took, _ = _in_process(recomputed_due_items, cw)
                found.setdefault("whole", []).append(took)
            overdue = sum(i.overdue for i in due_items(cw, AS_OF))
            within = len(due_items(cw, AS_OF, within=10))
            print(f"| {n:,} | {items:,} ({within:,}, {overdue:,}) | {_shown(found['command'])} | "
                  f"{_shown(found['within'])} | {_shown(found['overdue'])} | {_shown(found['kept'])} | "
                  f"{_shown(found['whole'])} |", flush=True)
            cw.store.dispose()


if __name__ == "__main__":
    main()
