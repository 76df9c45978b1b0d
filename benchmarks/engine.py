"""Benchmarks for issue 4: guarded moves in memory and durably, CLI start-up, definition loading.

Run: .venv/bin/python benchmarks/engine.py [--quick] [--postgres URL]
Without --postgres it starts a throwaway server the way the tests do (tests/pg_server.py).
Prints Markdown tables; the README's Benchmarks section is a copy of one full run.
"""
from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from typing import Any
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transitions import Machine  # noqa: E402

from benchmarks.databases import postgres_databases  # noqa: E402
from casework.workflow import service  # noqa: E402
from casework.workflow.engine import Engine  # noqa: E402
from casework.workflow.loader import Policies  # noqa: E402
from casework.workflow.people import Case, Staff  # noqa: E402
from casework.workflow.workspace import open_casework  # noqa: E402

AT = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
SW = Staff("sw", "Sam", frozenset({"social_worker"}), "A", "SW1", None)
EVENT = "hold_cin_review"


def rate(fn, moves: int) -> float:
    start = time.perf_counter()
    fn(moves)
    return moves / (time.perf_counter() - start)


# --- in memory -------------------------------------------------------------------------

def engine_rate(n_cases: int, moves: int) -> float:
    engine = Engine(Policies().get("national"))
    cases = [Case(f"C-{i}", "national", "A", "cin_plan", lead=SW) for i in range(n_cases)]

    def run(k: int) -> None:
        for i in range(k):
            engine.move(cases[i % n_cases], EVENT, SW, AT)
    return rate(run, moves)


def _plain_guards(case) -> bool:
    """The national guards of hold_cin_review as plain callables: who, lead allocated, supervision."""
    lead = case.lead
    day = AT.date()
    return (case.actor.id == lead.id and lead is not None
            and (lead.qualified_on(day) or (case.supervisor is not None and case.supervisor.qualified_on(day))))


def transitions_rate(n_cases: int, moves: int) -> float:
    d = Policies().get("national")
    machine = Machine(model=None, states=list(d.states), initial=d.initial, auto_transitions=False,
                      transitions=[{"trigger": n, "source": list(e.sources), "dest": e.to,
                                    "conditions": [_plain_guards]} for n, e in d.events.items()],
                      send_event=False)
    cases = [_Actor(f"C-{i}") for i in range(n_cases)]
    event = machine.events[EVENT]

    def run(k: int) -> None:
        for i in range(k):
            case = cases[i % n_cases]
            event.trigger(case, case)  # the guard receives the case, as a plain callable
    return rate(run, moves)


def statemachine_rate(n_cases: int, moves: int) -> float:
    from statemachine import State, StateMachine

    class CinCase(StateMachine):
        cin_plan = State(initial=True)
        hold_cin_review = cin_plan.to.itself(cond="guards")

        def __init__(self, case):
            self.case = case
            super().__init__()

        def guards(self) -> bool:
            return _plain_guards(self.case)

    machines = [CinCase(_Actor(f"C-{i}")) for i in range(n_cases)]

    def run(k: int) -> None:
        for i in range(k):
            machines[i % n_cases].send(EVENT)
    return rate(run, moves)


def dict_rate(n_cases: int, moves: int) -> float:
    table = {("cin_plan", EVENT): ("cin_plan", _plain_guards)}
    cases = [_Actor(f"C-{i}") for i in range(n_cases)]

    def run(k: int) -> None:
        for i in range(k):
            case = cases[i % n_cases]
            dest, guard = table[(case.state, EVENT)]
            if guard(case):
                case.state = dest
    return rate(run, moves)


class _Actor:
    """A case for the baselines: state, lead, supervisor and the actor, as plain attributes."""

    def __init__(self, cid: str):
        self.id, self.state, self.lead, self.supervisor, self.actor = cid, "cin_plan", SW, None, SW


# --- durable ---------------------------------------------------------------------------

def _prepared_store(url: str, n: int):
    now = [AT]
    cw = open_casework(url, clock=lambda: now[0])
    service.init_store(cw)
    service.add_staff(cw, "tm", "T", ["team_manager"], team="A", registration="SW0")
    service.add_staff(cw, "sw", "S", ["social_worker"], team="A", registration="SW1", actor="tm")
    for i in range(n):
        cid = f"C-{i}"
        service.open_case(cw, cid, "national", "A", "tm")
        service.allocate(cw, cid, "sw", "tm")
        service.move_case(cw, cid, "decide_assessment", "tm")
        service.record_fact(cw, cid, "assessment_completed", "sw")
        service.move_case(cw, cid, "start_cin_plan", "sw")
    return cw, now


def casework_durable(url: str, n: int = 20, cold: bool = False):
    """casework moves on a prepared store: returns run(k), which makes the next k moves.

    Warm: the same *n* cases in turn, in a long-lived workspace (what it read of each is reused).
    Cold: a random case of *n* each time with nothing kept, as a CLI command finds it."""
    import random

    cw, now = _prepared_store(url, n)
    made, pick = [0], random.Random(16).randrange

    def run(k: int) -> None:
        for i in range(made[0], made[0] + k):
            now[0] += timedelta(seconds=1)
            if cold:
                cw.snapshots.clear()
            service.move_case(cw, f"C-{pick(n) if cold else i % n}", EVENT, "sw")
        made[0] += k
    return run, cw.store.dispose


def _audit_row(prev: str, seq: int, cid: str, at: str) -> tuple:
    payload = json.dumps({"reason": None, "rules": ["WT-1", "WT-3"]}, sort_keys=True, separators=(",", ":"))
    body = json.dumps([f"case:{cid}", seq, at, at, "sw", "move", cid, EVENT, "cin_plan", "cin_plan", "national",
                       "1@x", payload], sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{prev}|{body}".encode()).hexdigest()
    return (f"case:{cid}", seq, at, at, "sw", "move", cid, EVENT, "cin_plan", "cin_plan", "national", "1@x",
            payload, prev, digest)


_RAW_SCHEMA = [
    "CREATE TABLE cases (id TEXT PRIMARY KEY, state TEXT, version INTEGER, updated_at TEXT)",
    "CREATE TABLE markers (case_id TEXT, marker TEXT, at TEXT, PRIMARY KEY (case_id, marker))",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, chain TEXT, seq INTEGER, recorded_at TEXT, at TEXT, actor TEXT, "
    "action TEXT, case_id TEXT, event TEXT, from_state TEXT, to_state TEXT, policy TEXT, policy_version TEXT, "
    "payload TEXT, prev_hash TEXT, hash TEXT, UNIQUE (chain, seq))",
]
#: what a move reads first: the case row with the heads of its audit chain and of the staff chain
_RAW_READ = ("SELECT *, (SELECT seq FROM audit WHERE chain = ?1 ORDER BY seq DESC LIMIT 1), "
             "(SELECT hash FROM audit WHERE chain = ?1 ORDER BY seq DESC LIMIT 1), "
             "(SELECT seq FROM audit WHERE chain = 'staff' ORDER BY seq DESC LIMIT 1) FROM cases WHERE id = ?2")


_RAW_WRITES = (
    "UPDATE cases SET state='cin_plan', version=?, updated_at=? WHERE id=? AND version=?",
    "INSERT INTO markers VALUES (?, 'event:hold_cin_review', ?) ON CONFLICT (case_id, marker) "
    "DO UPDATE SET at = excluded.at",
    "INSERT INTO audit (chain, seq, recorded_at, at, actor, action, case_id, event, from_state, to_state, policy, "
    "policy_version, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
)


def _raw_writes(cid: str, at: str, version: int, row: tuple) -> list[tuple[str, tuple]]:
    """The three writes of one move with their parameters (``?`` placeholders)."""
    return list(zip(_RAW_WRITES, [(version + 1, at, cid, version), (cid, at), row], strict=False))


def _raw_moves(n: int, write_move) -> Any:
    """run(k) for a raw baseline: keeps each case's version and chain head; write_move writes one move."""
    heads = {f"C-{i}": ("0" * 64, 0) for i in range(n)}
    versions = {f"C-{i}": 1 for i in range(n)}
    made = [0]

    def run(k: int) -> None:
        for i in range(made[0], made[0] + k):
            cid = f"C-{i % n}"
            at = (AT + timedelta(seconds=i)).isoformat()
            prev, seq = heads[cid]
            row = _audit_row(prev, seq + 1, cid, at)
            write_move(cid, _raw_writes(cid, at, versions[cid], row))
            heads[cid] = (row[-1], seq + 1)
            versions[cid] += 1
        made[0] += k
    return run


def raw_sqlite(path: str, n: int = 20, reads: bool = False):
    """Raw sqlite3 writing the same rows (with *reads*, first reading what a move reads): run(k), close."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    for ddl in _RAW_SCHEMA:
        conn.execute(ddl)
    conn.executemany("INSERT INTO cases VALUES (?, 'cin_plan', 1, '')", [(f"C-{i}",) for i in range(n)])

    def write_move(cid: str, writes: list[tuple[str, tuple]]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        if reads:
            conn.execute(_RAW_READ, (f"case:{cid}", cid)).fetchone()
        for sql, params in writes:
            assert conn.execute(sql, params).rowcount == 1
        conn.execute("COMMIT")
    return _raw_moves(n, write_move), conn.close


def raw_postgres(url: str, n: int = 20):
    """Raw psycopg writing the same rows: run(k), close."""
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    for ddl in _RAW_SCHEMA:
        conn.execute(ddl.replace("INTEGER PRIMARY KEY,", "SERIAL PRIMARY KEY,"))
    for i in range(n):
        conn.execute("INSERT INTO cases VALUES (%s, 'cin_plan', 1, '')", (f"C-{i}",))

    def write_move(cid: str, writes: list[tuple[str, tuple]]) -> None:
        with conn.transaction():
            for sql, params in writes:
                assert conn.execute(sql.replace("?", "%s"), params).rowcount == 1
    return _raw_moves(n, write_move), conn.close


def interleaved(runners: dict[str, Any], moves: int, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Moves/s of each runner, measured in alternating batches so that disk and machine drift hit all alike.

    Returns the overall rate of each, and the median over rounds of each one's rate
    divided by the first runner's (the reference).
    """
    batch = max(1, moves // rounds)
    spent = {name: 0.0 for name in runners}
    per_round: dict[str, list[float]] = {name: [] for name in runners}
    for run in runners.values():
        run(min(batch, 50))  # warm up: statement caches, snapshots, the file's first pages
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(batch)
            took = time.perf_counter() - start
            spent[name] += took
            per_round[name].append(batch / took)
    reference = next(iter(runners))
    rates = {name: batch * rounds / spent[name] for name in runners}
    ratios = {name: statistics.median(r / ref for r, ref in zip(per_round[name], per_round[reference], strict=False))
              for name in runners}
    return rates, ratios


# --- processes -------------------------------------------------------------------------

def process_median(args: list[str], runs: int = 5, env: dict | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("CASEWORK_BENCH_PG"))
    args = parser.parse_args()
    moves = 20_000 if args.quick else 200_000
    big = 10_000 if args.quick else 100_000
    psm_moves = 5_000 if args.quick else 30_000
    durable = 600 if args.quick else 6_000
    rounds = 6 if args.quick else 12
    print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}\n")

    print("| in memory, guarded moves/s | 10 cases | %s cases |" % f"{big:,}")
    print("| --- | ---: | ---: |")
    rows = {}
    for name, fn, k in [("casework Engine.move (verdict included)", engine_rate, moves),
                        ("bare shared transitions Machine, plain guards", transitions_rate, moves),
                        ("python-statemachine (one machine per case)", statemachine_rate, psm_moves),
                        ("plain dict state machine", dict_rate, moves)]:
        rows[name] = (fn(10, k), fn(big, k))
        print(f"| {name} | {rows[name][0]:,.0f} | {rows[name][1]:,.0f} |")
    eng, bare = rows["casework Engine.move (verdict included)"], rows["bare shared transitions Machine, plain guards"]
    print(f"| ratio casework / bare transitions | {eng[0] / bare[0]:.2f} | {eng[1] / bare[1]:.2f} |")
    print(f"| casework, {big:,} cases / 10 cases | {eng[1] / eng[0]:.2f} | |\n")

    print("| durable moves/s, one transaction per move (warm: the same 20 cases, a long-lived workspace) | casework | "
          "raw driver | ratio (median of rounds) |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"raw": raw_sqlite(f"{tmp}/raw.db"), "raw+read": raw_sqlite(f"{tmp}/raw-read.db", reads=True),
                "casework": casework_durable(f"sqlite:///{tmp}/cw.db"),
                "cold": casework_durable(f"sqlite:///{tmp}/cold.db", 300 if args.quick else 2000, cold=True)}
        rates, ratios = interleaved({k: run for k, (run, _) in runs.items()}, durable, rounds)
        for _, close in runs.values():
            close()
    cw_rate, cw_vs_raw = rates["casework"], ratios["casework"]
    cw_vs_read = cw_vs_raw / ratios["raw+read"]
    print(f"| SQLite (WAL, `synchronous=FULL`), raw sqlite3 writing the same rows | {cw_rate:,.0f} | "
          f"{rates['raw']:,.0f} | {cw_vs_raw:.2f} |")
    print(f"| SQLite, raw sqlite3 also reading the case and chain heads first | {cw_rate:,.0f} | "
          f"{rates['raw+read']:,.0f} | {cw_vs_read:.2f} |")
    print(f"| SQLite, cold: a random case of {300 if args.quick else 2000:,} each time, nothing kept, beside raw "
          f"sqlite3 reading first | {rates['cold']:,.0f} | {rates['raw+read']:,.0f} | "
          f"{ratios['cold'] / ratios['raw+read']:.2f} |")
    with postgres_databases(args.postgres, "bench_cw", "bench_raw") as urls:
        runs = {"raw": raw_postgres(urls["bench_raw"]), "casework": casework_durable(urls["bench_cw"])}
        rates, ratios = interleaved({k: run for k, (run, _) in runs.items()}, durable, rounds)
        for _, close in runs.values():
            close()
        print(f"| PostgreSQL 15 (default durability), raw psycopg writing the same rows | "
              f"{rates['casework']:,.0f} | {rates['raw']:,.0f} | {ratios['casework']:.2f} |\n")

    # whole CLI commands are measured by benchmarks/cli.py
    for package in ("workflow", "store", "cli"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    load_s = process_median([sys.executable, "-c", "from casework.workflow.loader import Policies; Policies().all()"],
                            runs=9)
    start = time.perf_counter()
    Policies().all()
    in_process = time.perf_counter() - start
    print("| whole process or step | median of 9 |")
    print("| --- | ---: |")
    print(f"| load all {len(Policies().names())} definitions (fresh process, loaded definitions cached) | "
          f"{load_s * 1000:.0f} ms |")
    print(f"| load all definitions (in process, after import) | {in_process * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
