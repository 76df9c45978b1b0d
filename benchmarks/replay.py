"""How long `casework audit replay` takes over 200,000 audit entries (issue 13).

One national case history of 10 actions (opened, allocated to a social worker, assessed, a CIN
plan and its reviews, the lead agreed with partners, a reallocation to a community care worker
under the social worker's supervision, a case note) is made through the service, then written
again for 20,000 cases straight into the chains with ``store.audit.chain_rows``, spread over 200
social workers and 19 community care workers (220 staff with the team manager): 200,000 case
entries plus the staff, settings and definitions chains. Every one of them replays as allowed.

Run: .venv/bin/python benchmarks/replay.py [--quick] [--postgres URL | --no-postgres]
(--quick: 2,000 cases). Without --postgres it starts a throwaway server the way the tests do.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from benchmarks.databases import postgres_databases  # noqa: E402
from casework.store import audit  # noqa: E402
from casework.store.schema import audit as audit_table, cases  # noqa: E402
from casework.workflow import service  # noqa: E402
from casework.workflow.replay import replay  # noqa: E402
from casework.workflow.workspace import open_casework  # noqa: E402

from definitions import _median  # noqa: E402  (this script's directory is on the path)

T0 = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
WORKERS, CCWS = 200, 19
#: the template case's holders, replaced in each copy
HOLDERS = ("sw0", "ccw0")


def _template(cw) -> list[dict[str, Any]]:
    """The staff, and one case's history made through the service: its chain's entries."""
    service.init_store(cw)
    service.add_staff(cw, "tm", "Tess", ["team_manager"], team="A", registration="SW1")
    for n in range(WORKERS):
        service.add_staff(cw, f"sw{n}", f"SW {n}", ["social_worker"], team="A", registration=f"SW{100 + n}",
                          actor="tm")
    for n in range(CCWS):
        service.add_staff(cw, f"ccw{n}", f"CCW {n}", ["community_care_worker"], team="A", actor="tm")
    steps: list[Callable[[], Any]] = [
        lambda: service.open_case(cw, "T", "national", "A", "tm"),
        lambda: service.allocate(cw, "T", "sw0", "tm"),
        lambda: service.move_case(cw, "T", "decide_assessment", "tm"),
        lambda: service.record_fact(cw, "T", "assessment_completed", "sw0", note="Seen at home"),
        lambda: service.move_case(cw, "T", "start_cin_plan", "sw0"),
        lambda: service.move_case(cw, "T", "hold_cin_review", "sw0"),
        lambda: service.record_fact(cw, "T", "lead_agreed_with_partners", "tm"),
        lambda: service.allocate(cw, "T", "ccw0", "tm", supervisor="sw0", reason="Housing need"),
        lambda: service.move_case(cw, "T", "hold_cin_review", "ccw0"),
        lambda: service.record_fact(cw, "T", "case_note", "ccw0", note="Visit"),
    ]
    for step in steps:
        cw.clock.advance(minutes=30)
        step()
    with cw.store.read() as conn:
        return audit.entries(conn, "case:T")


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def _copy(entries: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The template's entries as case C-n's, held by its own social worker and CCW."""
    names = dict(zip(HOLDERS, (f"sw{n % WORKERS}", f"ccw{n % CCWS}"), strict=False))
    cid = f"C-{n}"
    fields = []
    for e in entries:
        payload = {k: names.get(v, v) if isinstance(v, str) else v for k, v in e["payload"].items()}
        fields.append({**{k: e[k] for k in ("recorded_at", "at", "action", "event", "from_state", "to_state",
                                            "policy", "policy_version", "principal")},
                       "actor": names.get(e["actor"], e["actor"]), "case_id": cid, "payload": payload})
    return audit.chain_rows(f"case:{cid}", fields)


def build(url: str, n_cases: int) -> Any:
    cw = open_casework(url, clock=_Clock())
    template = _template(cw)
    last = template[-1]
    with cw.store.write() as conn:
        rows, case_rows = [], []
        for n in range(n_cases):
            rows += _copy(template, n)
            case_rows.append({"id": f"C-{n}", "policy": "national", "team": "A", "state": last["to_state"],
                              "version": len(template), "opened_at": template[0]["at"],
                              "state_entered_at": template[4]["at"], "allocated_at": template[7]["at"],
                              "lead_id": f"ccw{n % CCWS}", "supervisor_id": f"sw{n % WORKERS}",
                              "previous_lead_id": f"sw{n % WORKERS}", "updated_at": last["recorded_at"],
                              "policy_digest": template[0]["payload"]["digest"]})
            if len(rows) >= 10_000:
                conn.execute(insert(audit_table), rows)
                rows = []
        if rows:
            conn.execute(insert(audit_table), rows)
        conn.execute(insert(cases), case_rows)
    return cw


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    return _median(fn, 3)


def _read_only(cw) -> int:
    with cw.store.read() as conn:
        return sum(1 for _ in audit.in_written_order(conn))


def measure(name: str, url: str, n_cases: int, cli: bool) -> None:
    cw = build(url, n_cases)
    try:
        whole, report = timed(lambda: replay(cw))
        assert report.ok and report.judged == 10 * n_cases + 10, report.discrepancies[:3]
        one, single = timed(lambda: replay(cw, "C-0"))
        assert single.ok and single.judged == 10
        floor, entries = timed(lambda: _read_only(cw))
        print(f"| {name}: `replay`, every case | {entries:,} | {whole:.2f} s | {entries / whole:,.0f} |")
        print(f"| {name}: `replay C-0`, one case (every entry still read) | {entries:,} | {one:.2f} s | "
              f"{entries / one:,.0f} |")
        print(f"| {name}: reading and decoding the entries alone | {entries:,} | {floor:.2f} s | "
              f"{entries / floor:,.0f} |")
        if cli:
            exe = str(Path(sys.executable).parent / "casework")
            start = time.perf_counter()
            done = subprocess.run([exe, "--db", url, "audit", "replay"], capture_output=True, text=True)
            took = time.perf_counter() - start
            assert done.returncode == 0, done.stderr
            print(f"| {name}: `casework audit replay`, a fresh process (one run) | {entries:,} | {took:.2f} s | "
                  f"{entries / took:,.0f} |")
    finally:
        cw.store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("CASEWORK_BENCH_PG"))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    n_cases = 2_000 if args.quick else 20_000
    print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}\n")
    print("| what (median of 3) | entries | time | entries/s |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", f"sqlite:///{tmp}/replay.db", n_cases, cli=True)
    if args.no_postgres:
        return
    with postgres_databases(args.postgres, "bench_replay") as urls:
        measure("PostgreSQL", urls["bench_replay"], n_cases, cli=False)


if __name__ == "__main__":
    main()
