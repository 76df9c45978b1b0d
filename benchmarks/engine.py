"""Benchmarks for issue 4: guarded moves in memory and durably, CLI start-up, definition loading.

Run: .venv/bin/python benchmarks/engine.py [--quick] [--postgres URL]
Without --postgres it starts a throwaway server the way the tests do (tests/pg_server.py).
Prints Markdown tables; the README's Benchmarks section is a copy of one full run.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transitions import Machine  # noqa: E402

from workflow import service  # noqa: E402
from workflow.engine import Engine  # noqa: E402
from workflow.loader import Policies  # noqa: E402
from workflow.people import Case, Staff  # noqa: E402
from workflow.workspace import open_casework  # noqa: E402

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
    service.add_staff(cw, "sw", "S", ["social_worker"], team="A", registration="SW1")
    for i in range(n):
        cid = f"C-{i}"
        service.open_case(cw, cid, "national", "A", "tm")
        service.allocate(cw, cid, "sw", "tm")
        service.move_case(cw, cid, "decide_assessment", "tm")
        service.record_fact(cw, cid, "assessment_completed", "sw")
        service.move_case(cw, cid, "start_cin_plan", "sw")
    return cw, now


def casework_durable(url: str, moves: int, n: int = 20) -> float:
    cw, now = _prepared_store(url, n)

    def run(k: int) -> None:
        for i in range(k):
            now[0] += timedelta(seconds=1)
            service.move_case(cw, f"C-{i % n}", EVENT, "sw")
    result = rate(run, moves)
    cw.store.dispose()
    return result


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


_RAW_READS = [
    "SELECT * FROM cases WHERE id = ?", "SELECT * FROM markers WHERE case_id = ?",
    "SELECT * FROM audit WHERE case_id = ? AND action = 'fact'", "SELECT * FROM markers WHERE case_id = ? LIMIT 1",
    "SELECT * FROM cases WHERE id = ? LIMIT 1",
]


def raw_sqlite(path: str, moves: int, n: int = 20, reads: bool = False) -> float:
    """Raw sqlite3 writing the same rows; with *reads*, first the five reads a guarded move makes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    for ddl in _RAW_SCHEMA:
        conn.execute(ddl)
    conn.executemany("INSERT INTO cases VALUES (?, 'cin_plan', 1, '')", [(f"C-{i}",) for i in range(n)])
    heads = {f"C-{i}": ("0" * 64, 0) for i in range(n)}
    versions = {f"C-{i}": 1 for i in range(n)}

    def run(k: int) -> None:
        for i in range(k):
            cid = f"C-{i % n}"
            at = (AT + timedelta(seconds=i)).isoformat()
            prev, seq = heads[cid]
            row = _audit_row(prev, seq + 1, cid, at)
            if reads:
                conn.execute("BEGIN")
                for query in _RAW_READS:
                    conn.execute(query, (cid,)).fetchall()
                conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute("UPDATE cases SET state='cin_plan', version=?, updated_at=? WHERE id=? AND version=?",
                               (versions[cid] + 1, at, cid, versions[cid]))
            assert cur.rowcount == 1
            conn.execute("INSERT INTO markers VALUES (?, 'event:hold_cin_review', ?) ON CONFLICT (case_id, marker) "
                         "DO UPDATE SET at = excluded.at", (cid, at))
            conn.execute("INSERT INTO audit (chain, seq, recorded_at, at, actor, action, case_id, event, from_state, "
                         "to_state, policy, policy_version, payload, prev_hash, hash) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row)
            conn.execute("COMMIT")
            heads[cid] = (row[-1], seq + 1)
            versions[cid] += 1
    result = rate(run, moves)
    conn.close()
    return result


def raw_postgres(url: str, moves: int, n: int = 20) -> float:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for ddl in _RAW_SCHEMA:
            conn.execute(ddl.replace("INTEGER PRIMARY KEY,", "SERIAL PRIMARY KEY,"))
        for i in range(n):
            conn.execute("INSERT INTO cases VALUES (%s, 'cin_plan', 1, '')", (f"C-{i}",))
        heads = {f"C-{i}": ("0" * 64, 0) for i in range(n)}
        versions = {f"C-{i}": 1 for i in range(n)}

        def run(k: int) -> None:
            for i in range(k):
                cid = f"C-{i % n}"
                at = (AT + timedelta(seconds=i)).isoformat()
                prev, seq = heads[cid]
                row = _audit_row(prev, seq + 1, cid, at)
                with conn.transaction():
                    cur = conn.execute("UPDATE cases SET version=%s, updated_at=%s WHERE id=%s AND version=%s",
                                       (versions[cid] + 1, at, cid, versions[cid]))
                    assert cur.rowcount == 1
                    conn.execute("INSERT INTO markers VALUES (%s, 'event:hold_cin_review', %s) ON CONFLICT "
                                 "(case_id, marker) DO UPDATE SET at = excluded.at", (cid, at))
                    conn.execute("INSERT INTO audit (chain, seq, recorded_at, at, actor, action, case_id, event, "
                                 "from_state, to_state, policy, policy_version, payload, prev_hash, hash) VALUES "
                                 "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", row)
                heads[cid] = (row[-1], seq + 1)
                versions[cid] += 1
        return rate(run, moves)


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
    durable = 300 if args.quick else 2_000
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

    print("| durable moves/s (one transaction per move) | casework | raw driver | ratio |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        ours = casework_durable(f"sqlite:///{tmp}/cw.db", durable)
        raw = raw_sqlite(f"{tmp}/raw.db", durable)
        raw_reads = raw_sqlite(f"{tmp}/raw-reads.db", durable, reads=True)
        print(f"| SQLite (WAL, synchronous=FULL), raw writes only | {ours:,.0f} | {raw:,.0f} | {ours / raw:.2f} |")
        print(f"| SQLite, raw also making the move's five reads | {ours:,.0f} | {raw_reads:,.0f} | "
              f"{ours / raw_reads:.2f} |")
    server = None
    url = args.postgres
    if url is None:
        from tests.pg_server import PostgresServer
        server = PostgresServer()
        server.start()
        server.admin("CREATE DATABASE bench_cw")
        server.admin("CREATE DATABASE bench_raw")
    try:
        ours = casework_durable(url or server.url("bench_cw"), durable)
        raw = raw_postgres(url or server.url("bench_raw"), durable)
        print(f"| PostgreSQL 15 (default durability) | {ours:,.0f} | {raw:,.0f} | {ours / raw:.2f} |\n")
    finally:
        if server is not None:
            server.stop()

    exe = str(Path(sys.executable).parent / "casework")
    with tempfile.TemporaryDirectory() as tmp:
        cw, _ = _prepared_store(f"sqlite:///{tmp}/cli.db", 1)
        cw.store.dispose()
        help_s = process_median([exe, "--help"])
        move_s = process_median([exe, "--db", f"{tmp}/cli.db", "case", "move", "C-0", EVENT, "--as", "sw"])
    load_s = process_median([sys.executable, "-c", "from workflow.loader import Policies; Policies().all()"])
    start = time.perf_counter()
    Policies().all()
    in_process = time.perf_counter() - start
    print("| whole process or step | median |")
    print("| --- | ---: |")
    print(f"| `casework --help` | {help_s * 1000:.0f} ms |")
    print(f"| one `casework case move` (SQLite) | {move_s * 1000:.0f} ms |")
    print(f"| load and validate all {len(Policies().names())} definitions (fresh process) | {load_s * 1000:.0f} ms |")
    print(f"| load and validate all definitions (in process, after import) | {in_process * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
