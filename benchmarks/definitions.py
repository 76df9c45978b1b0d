"""Benchmarks for issue 11: loading, checking and proving the shipped protocols, and what a command pays.

Run: .venv/bin/python benchmarks/definitions.py [--runs N]
Prints Markdown tables; the README's Benchmarks section holds one full run. The search is
measured in process with no cache (what the first use of a changed file costs), and whole
commands in fresh processes with an empty cache and with the cache a first use leaves.
"""
from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.workflow.loader import Policies, shipped_directory  # noqa: E402
from casework.workflow.refinement import prove  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_engine", ROOT / "benchmarks" / "engine.py")
bench_engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_engine)  # type: ignore[union-attr]


def _median(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    national = Policies().get("national")

    print("| protocol | load and check, no search | refinement search (no cache) | situations | situations/s "
          "| actions compared (identical) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    total_search = 0.0
    for name in Policies().names():
        load_s, _ = _median(lambda name=name: Policies().load(name), runs)  # proofs come from the cache here
        if name == "national":
            print(f"| national | {load_s * 1000:.0f} ms | (the baseline) | | | |")
            continue
        definition = Policies().get(name)
        search_s, proof = _median(lambda d=definition: prove(national, d, use_cache=False), runs)
        total_search += search_s
        print(f"| {name} | {load_s * 1000:.0f} ms | {search_s:.2f} s | {proof.situations:,} | "
              f"{proof.situations / search_s:,.0f} | {proof.actions} ({proof.identical}) |")
    print(f"| all four local protocols | | {total_search:.2f} s | | | |\n")

    exe = str(Path(sys.executable).parent / "casework")
    for package in ("workflow", "store", "cli"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    files = [str(p) for p in sorted(shipped_directory().glob("*.yaml"))]
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/check.db"
        cold = []
        for i in range(runs):
            env = {**os.environ, "CASEWORK_CACHE_DIR": f"{tmp}/cold-{i}"}
            cold.append(bench_engine.process_median([exe, "--db", db, "policy", "check", *files], runs=1, env=env))
        warm_env = {**os.environ, "CASEWORK_CACHE_DIR": f"{tmp}/warm"}
        bench_engine.process_median([exe, "--db", db, "policy", "check", *files], runs=1, env=warm_env)
        warm = bench_engine.process_median([exe, "--db", db, "policy", "check", *files], runs=runs, env=warm_env)
        cw, _ = bench_engine._prepared_store(f"sqlite:///{tmp}/cli.db", 1)
        cw.store.dispose()
        help_s = bench_engine.process_median([exe, "--help"], runs=max(runs, 9), env=warm_env)
        move = [exe, "--db", f"{tmp}/cli.db", "case", "move", "C-0", bench_engine.EVENT, "--as", "sw"]
        move_s = bench_engine.process_median(move, runs=max(runs, 9), env=warm_env)
    print(f"| whole process (median of {runs}, or 9) | time |")
    print("| --- | ---: |")
    print(f"| `casework policy check machines/*.yaml`, empty cache (every search runs) | {statistics.median(cold):.2f} s |")
    print(f"| the same, proofs reused from the cache | {warm:.2f} s |")
    print(f"| `casework --help` | {help_s * 1000:.0f} ms |")
    print(f"| one `casework case move` (SQLite, proof cached) | {move_s * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
