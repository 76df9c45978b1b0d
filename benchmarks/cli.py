"""Benchmark for issues 14 and 16: how long everyday CLI commands take as whole processes, and why.

Run: .venv/bin/python benchmarks/cli.py [--runs N] [--postgres URL | --no-postgres]
Each command runs N times (default 9) as a fresh process on a prepared store, bytecode
compiled as `scripts/setup` leaves it and with a warm user cache (bank holidays, refinement
proofs), as a practitioner's second command of the day finds it; the median is printed.
Then `python -X importtime` of one move, summed by top-level package: where the start-up
goes. Without --postgres it starts a throwaway server the way the tests do.
"""
from __future__ import annotations

import argparse
import collections
import compileall
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.databases import postgres_databases  # noqa: E402
from benchmarks.engine import EVENT, _prepared_store  # noqa: E402

EXE = str(Path(sys.executable).parent / "casework")


def median_ms(args: list[str], runs: int) -> tuple[float, float, float]:
    """(median, fastest, slowest) wall time of *args* as a fresh process, in ms."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def import_breakdown(db: str) -> list[tuple[str, float]]:
    """Milliseconds of import time per top-level package for one `case move` (self times summed)."""
    code = (f"import sys; sys.argv = ['casework', '--db', {db!r}, 'case', 'move', 'C-0', {EVENT!r}, '--as', 'sw']\n"
            "from casework.cli.main import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          check=True)
    totals: collections.Counter[str] = collections.Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.split(":", 1)[1].split("|")
        totals[name.strip().split(".")[0]] += int(self_us)
    return [(name, us / 1000) for name, us in totals.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--postgres", default=os.environ.get("CASEWORK_BENCH_PG"))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    for package in ("workflow", "store", "cli"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}, "
          f"median of {args.runs} (fastest–slowest)\n")
    rows: list[tuple[str, tuple[float, float, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/cli.db"
        cw, _ = _prepared_store(f"sqlite:///{db}", 20)
        cw.store.dispose()
        base = [EXE, "--db", db]
        subprocess.run([*base, "case", "move", "C-0", EVENT, "--as", "sw"], check=True, capture_output=True)
        commands = {
            "`python -c pass` (the interpreter alone)": [sys.executable, "-c", "pass"],
            "for reference: `python -c 'import sqlalchemy'`": [sys.executable, "-c", "import sqlalchemy"],
            "`casework --help`": [EXE, "--help"],
            "`casework case show C-0`": [*base, "case", "show", "C-0"],
            "`casework case move C-0 hold_cin_review --as sw`": [*base, "case", "move", "C-0", EVENT, "--as", "sw"],
            "`casework case record C-1 home_visit --as sw`": [*base, "case", "record", "C-1", "home_visit",
                                                              "--as", "sw"],
            "`casework case can C-2 --as sw`": [*base, "case", "can", "C-2", "--as", "sw"],
            "`casework case list` (20 cases)": [*base, "case", "list"],
            "`casework due` (20 open cases)": [*base, "due"],
        }
        for label, command in commands.items():
            rows.append((label, median_ms(command, args.runs)))
        breakdown = import_breakdown(db)
    if not args.no_postgres:
        rows.append(("`casework case move` on PostgreSQL (psycopg and SQLAlchemy's pool imported)",
                     _postgres_move(args)))
    print("| whole process | median | range |")
    print("| --- | ---: | ---: |")
    for label, (median, low, high) in rows:
        print(f"| {label} | {median:.0f} ms | {low:.0f}–{high:.0f} ms |")
    total = sum(ms for _, ms in breakdown)
    print("\n| `python -X importtime`, one `case move` | self time, summed | share |\n| --- | ---: | ---: |")
    shown = breakdown[:10]
    for name, ms in shown:
        print(f"| {name} | {ms:.0f} ms | {ms / total:.0%} |")
    rest = total - sum(ms for _, ms in shown)
    print(f"| everything else ({len(breakdown) - len(shown)} packages) | {rest:.0f} ms | {rest / total:.0%} |")
    print(f"| all imports (importtime inflates them) | {total:.0f} ms | |")


def _postgres_move(args: argparse.Namespace) -> tuple[float, float, float]:
    with postgres_databases(args.postgres, "bench_cli") as urls:
        cw, _ = _prepared_store(urls["bench_cli"], 1)
        cw.store.dispose()
        return median_ms([EXE, "--db", urls["bench_cli"], "case", "move", "C-0", EVENT, "--as", "sw"], args.runs)


if __name__ == "__main__":
    main()
