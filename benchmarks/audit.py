"""Benchmarks for issue 12: `audit verify` beside a raw hashlib loop, and `audit rebuild` of a large store.

Builds a store of N cases with 10 audit entries each (open, allocations, moves and facts, with
the payloads the service writes) and a staff list, written in bulk with ``store.audit.chain_rows``
in one transaction; a first rebuild makes the tables from the chains. Then times
``service.verify_audit`` (SQLite's quick_check, and one pass per part over the log and the tables:
every hash, the replay of the tables, the principals, the kept due dates) in as many parts as it
chooses and in one, and its hash check alone, beside the floor: sha256 over the same canonical text
and nothing else, and a raw sqlite3 loop that reads the rows and checks every link. Last (unless
--no-rebuild), ``rebuild_projections`` of the full store with rows edited in each of the six tables.

Run: .venv/bin/python benchmarks/audit.py [--quick | --cases N] [--no-rebuild] [--postgres URL | --no-postgres]
(--cases 100000 --no-rebuild --no-postgres: the 1M entries of issue 16, about 12 minutes)
Without --postgres it starts a throwaway server the way the tests do (tests/pg_server.py).
Prints Markdown tables; the README's Benchmarks section holds one full run.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import delete, insert, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.databases import postgres_databases  # noqa: E402
from casework.store import audit  # noqa: E402
from casework.store.schema import cases, facts, markers, settings, staff  # noqa: E402
from casework.workflow import identity, service, verifying  # noqa: E402
from casework.workflow.clock import to_text  # noqa: E402
from casework.workflow.rebuilding import rebuild_projections  # noqa: E402
from casework.workflow.workspace import Casework, open_casework  # noqa: E402

from benchmarks.diagrams import median_seconds  # noqa: E402

T0 = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)
WORKERS, MANAGERS = 200, 20
POLICY_VERSION = "1@0123456789ab"
_HASHED = ("chain", "seq", "recorded_at", "at", "actor", "action", "case_id", "event", "from_state", "to_state",
           "policy", "policy_version", "payload")


def _staff_entries() -> list[dict[str, Any]]:
    """The staff chain: every social worker and team manager added, as add_staff audits them."""
    people = [(f"tm{k}", ["team_manager"], f"SW{900000 + k}") for k in range(MANAGERS)]
    people += [(f"sw{k}", ["social_worker"], f"SW{100000 + k}") for k in range(WORKERS)]
    now = to_text(T0 - timedelta(days=1))
    # the first manager starts the staff list (as themself) and adds everyone else
    return [{"recorded_at": now, "at": now, "actor": "tm0", "action": "staff", "event": "add",
             "policy": "national", "policy_version": POLICY_VERSION,
             "payload": {"id": sid, "name": sid.upper(), "roles": roles, "team": f"T{k % MANAGERS}",
                         "registration": reg, "registered_until": None, "pcf_level": None, "training": [],
                         "updated_at": now, "login": None, "left_on": None, "reason": None,
                         **({"first": True} if k == 0 else {})}} for k, (sid, roles, reg) in enumerate(people)]


def _case_entries(i: int) -> list[dict[str, Any]]:
    """Ten entries of one case: opened, allocated, assessed, on a CIN plan, reviewed, reallocated, reviewed."""
    cid, tm, sw, sw2 = f"C-{i}", f"tm{i % MANAGERS}", f"sw{i % WORKERS}", f"sw{(i + 1) % WORKERS}"
    start = T0 + timedelta(minutes=i)
    steps = [
        ("open", tm, None, None, "referral", {"team": f"T{i % MANAGERS}"}),
        ("allocate", tm, "allocate", "referral", "referral",
         {"lead_id": sw, "supervisor_id": tm, "worker_id": None, "previous_lead_id": None, "reason": None}),
        ("move", tm, "decide_assessment", "referral", "assessment", {"reason": None, "rules": ["WT-6"]}),
        ("fact", sw, "home_visit", "assessment", "assessment", {"with": [sw2], "note": "seen alone"}),
        ("fact", sw, "assessment_completed", "assessment", "assessment", {"with": [], "note": ""}),
        ("move", sw, "start_cin_plan", "assessment", "cin_plan", {"reason": None, "rules": ["WT-3", "WT-8"]}),
        ("move", sw, "hold_cin_review", "cin_plan", "cin_plan", {"reason": None, "rules": ["WT-1", "WT-3"]}),
        ("allocate", tm, "allocate", "cin_plan", "cin_plan",
         {"lead_id": sw2, "supervisor_id": tm, "worker_id": None, "previous_lead_id": sw, "reason": "caseload"}),
        ("fact", sw2, "case_note", "cin_plan", "cin_plan", {"with": [], "note": "introduced to the family"}),
        ("move", sw2, "hold_cin_review", "cin_plan", "cin_plan", {"reason": None, "rules": ["WT-1", "WT-3"]}),
    ]
    entries = []
    for k, (action, actor, event, from_state, to_state, payload) in enumerate(steps):
        when = to_text(start + timedelta(days=3 * k))
        entries.append({"recorded_at": when, "at": when, "actor": actor, "action": action, "case_id": cid,
                        "event": event, "from_state": from_state, "to_state": to_state, "policy": "national",
                        "policy_version": POLICY_VERSION, "payload": payload})
    return entries


def build(url: str, n_cases: int) -> tuple[Casework, float]:
    """A store holding only the audit chains of *n_cases* cases and the staff list; the tables are empty."""
    cw = open_casework(url, clock=lambda: T0 + timedelta(days=60))
    service.init_store(cw)
    start = time.perf_counter()
    with cw.store.write() as conn:
        principal = identity.running(conn)  # as the owner's own entries carry it (PostgreSQL insists)

        def chain(name: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return audit.chain_rows(name, [{**e, "principal": principal} for e in entries])
        rows = chain("staff", _staff_entries())
        for i in range(n_cases):
            rows += chain(f"case:C-{i}", _case_entries(i))
            if len(rows) >= 20_000:
                conn.execute("append_audit", rows)
                rows = []
        if rows:
            conn.execute("append_audit", rows)
    return cw, time.perf_counter() - start


def _tamper(cw: Casework, round_: int) -> None:
    """A few rows of each guarded table edited, removed or forged, as an insider with a database client."""
    with cw.store.write() as conn:
        conn.execute(update(cases).where(cases.c.id.in_([f"C-{round_}", f"C-{round_ + 7}"])).values(state="closed"))
        conn.execute(insert(staff).values(id=f"forged{round_}", name="F", roles='["team_manager"]', training="[]",
                                          updated_at=to_text(T0)))
        conn.execute(delete(facts).where(facts.c.case_id == f"C-{round_ + 3}"))
        conn.execute(delete(markers).where(markers.c.case_id == f"C-{round_ + 5}"))
        conn.execute(insert(settings).values(key="sandbox", value="true"))


def _hash_pass(cw: Casework) -> Callable[[], Any]:
    def hashes() -> None:
        with cw.store.read() as conn:
            assert not audit.verify(conn)[1]
    return hashes


#: what a verifier reads of each entry: the hashed fields, the principal (hashed when present), the links
_SELECT = f"SELECT {', '.join(_HASHED)}, principal, prev_hash, hash FROM audit ORDER BY chain, seq"


def _body(r: tuple) -> str:
    """The canonical text an entry's hash covers, built with nothing but json (as store.audit does)."""
    values = list(r[:13]) if r[13] is None else [*r[:13], r[13]]
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_texts(path: Path) -> list[tuple[str, str, str]]:
    """(prev_hash, canonical body, hash) of every entry, read with plain sqlite3."""
    conn = sqlite3.connect(path)
    rows = conn.execute(_SELECT).fetchall()
    conn.close()
    return [(r[14], _body(r), r[15]) for r in rows]


def floor_hashes(texts: list[tuple[str, str, str]]) -> None:
    """sha256 over the same canonical text as verify, with nothing else: the floor."""
    sha = hashlib.sha256
    for prev, body, digest in texts:
        if sha(f"{prev}|{body}".encode()).hexdigest() != digest:
            raise SystemExit("the floor loop found a broken entry")


def raw_verify(path: Path) -> int:
    """A minimal verifier in plain sqlite3: read every row, rebuild its canonical text, check hash and link."""
    conn = sqlite3.connect(path)
    sha = hashlib.sha256
    checked, chain, prev = 0, None, audit.GENESIS
    for r in conn.execute(_SELECT):
        if r[0] != chain:
            chain, prev = r[0], audit.GENESIS
        if r[14] != prev or sha(f"{prev}|{_body(r)}".encode()).hexdigest() != r[15]:
            raise SystemExit(f"raw verify found a broken entry in {chain}")
        prev = r[15]
        checked += 1
    conn.close()
    return checked


def _rebuild_rounds(cw: Casework, rounds: int) -> tuple[float, int]:
    times, changed = [], 0
    for r in range(rounds):
        _tamper(cw, r * 11)
        gc.collect()
        start = time.perf_counter()
        changed = rebuild_projections(cw).changed
        times.append(time.perf_counter() - start)
    return statistics.median(times), changed


def _timed(fn: Callable[[], Any], runs: int) -> float:
    """median_seconds after a full collection, so that what the last measurement left is not paid for here."""
    gc.collect()
    return median_seconds(fn, runs)


def _floor_seconds(path: Path, runs: int) -> float:
    texts = _canonical_texts(path)  # read first, and let go before the next measurement
    return _timed(lambda: floor_hashes(texts), runs)


def run_sqlite(tmp: str, n_cases: int, runs: int, skip_rebuild: bool = False) -> None:
    path = Path(tmp) / "audit.db"
    cw, built = build(f"sqlite:///{path}", n_cases)
    start = time.perf_counter()
    first = rebuild_projections(cw)
    made = time.perf_counter() - start
    entries, rows = first.entries, sum(t["rows"] for t in first.tables.values())
    del first  # its list of every row it restored
    assert service.verify_audit(cw).ok
    floor_s = _floor_seconds(path, runs)
    raw_s = _timed(lambda: raw_verify(path), runs)
    hashes_s = _timed(_hash_pass(cw), runs)
    verify_s = _timed(lambda: service.verify_audit(cw), runs)
    one_pass_s = _timed(lambda: verifying.verify_audit(cw, parts=1), runs)
    parts = len(verifying._spans(cw, None))
    rebuild_s, changed = (0.0, 0) if skip_rebuild else _rebuild_rounds(cw, runs)
    assert service.verify_audit(cw).ok
    print(f"SQLite store: {n_cases:,} cases, {entries:,} audit entries ({os.path.getsize(path) / 2**20:.0f} MiB after "
          f"the first rebuild), chains written in {built:.1f} s\n")
    print("| `audit verify` on SQLite | median of %d | entries/s | × floor |" % runs)
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in [(f"all `audit verify` does (quick_check, hashes, the tables' replay, principals, due dates), "
                           f"{parts} part(s) on {parts} core(s)", verify_s),
                          ("the same in one pass on one core", one_pass_s),
                          ("its hash pass alone (`store.audit.verify`)", hashes_s),
                          ("raw sqlite3 loop: read, canonical JSON, sha256, link", raw_s),
                          ("floor: sha256 over the same canonical text, nothing else", floor_s)]:
        print(f"| {name} | {seconds:.2f} s | {entries / seconds:,.0f} | {seconds / floor_s:.1f} |")
    print()
    if skip_rebuild:
        cw.store.dispose()
        return
    print("| `audit rebuild` on SQLite | wall time |")
    print("| --- | ---: |")
    print(f"| empty tables → {rows:,} rows (the first rebuild) | {made:.2f} s |")
    print(f"| full tables, {changed} rows edited, removed or forged across the six tables (median of {runs}) | "
          f"{rebuild_s:.2f} s |")
    cw.store.dispose()


def run_postgres(url: str, n_cases: int, runs: int) -> None:
    cw, built = build(url, n_cases)
    start = time.perf_counter()
    first = rebuild_projections(cw)
    made = time.perf_counter() - start
    verify_s = _timed(lambda: service.verify_audit(cw), runs)
    rebuild_s, changed = _rebuild_rounds(cw, runs)
    assert service.verify_audit(cw).ok
    print(f"\nPostgreSQL store: the same cases, {first.entries:,} entries (chains written in {built:.1f} s)\n")
    print("| on PostgreSQL | wall time | entries/s |")
    print("| --- | ---: | ---: |")
    print(f"| all `audit verify` does (median of {runs}) | {verify_s:.2f} s | "
          f"{first.entries / verify_s:,.0f} |")
    print(f"| `audit rebuild`, empty tables → full | {made:.2f} s | |")
    print(f"| `audit rebuild`, full tables, {changed} rows wrong (median of {runs}) | {rebuild_s:.2f} s | |")
    cw.store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 cases (20,000 entries), one run each")
    parser.add_argument("--postgres", default=os.environ.get("CASEWORK_BENCH_PG"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--cases", type=int, help="cases in the store (10 entries each; 100000 for 1M entries)")
    parser.add_argument("--no-rebuild", action="store_true", help="time verify only, not rebuilds of edited tables")
    args = parser.parse_args()
    n_cases, runs = (2_000, 1) if args.quick else (20_000, 3)
    n_cases = args.cases or n_cases
    print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}\n")
    with tempfile.TemporaryDirectory() as tmp:
        run_sqlite(tmp, n_cases, runs, args.no_rebuild)
    if args.no_postgres:
        return
    with postgres_databases(args.postgres, "bench_audit") as urls:
        run_postgres(urls["bench_audit"], n_cases, runs)


if __name__ == "__main__":
    main()
