"""How long drawing the shipped protocols takes: DOT source alone, then rendered by graphviz.

Times every view of every shipped protocol (the whole case path, its compact view, its CIN and
CP pages and the allocation rules):
building the DOT source in process, rendering it to SVG and to PNG with ``dot``, and the
whole ``casework diagram --all`` command in a fresh process (what refreshing diagrams/
costs). Prints a markdown table of medians.
Run: .venv/bin/python benchmarks/diagrams.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.workflow.diagram import ALL_VIEWS, allocation_source, diagram_source, render  # noqa: E402
from casework.workflow.loader import Policies  # noqa: E402


def median_seconds(work, repeat: int) -> float:
    """The median wall time of *repeat* runs of *work* (after one untimed warm-up run)."""
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2 repetitions instead of 5")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    definitions = Policies().all()
    diagrams = [(d, view) for d in definitions for view in ALL_VIEWS]

    def sources() -> None:
        for d, v in diagrams:
            allocation_source(d) if v.allocation else diagram_source(d, v.compact, page=v.page)

    def rendered(fmt: str):
        return lambda: [render(d, fmt, v.compact, allocation=v.allocation, page=v.page) for d, v in diagrams]

    with tempfile.TemporaryDirectory() as tmp:
        command = [str(ROOT / ".venv/bin/casework"), "diagram", "--all", "-o", tmp]
        rows = [("DOT source only (in process)", len(diagrams), median_seconds(sources, repeat)),
                ("SVG, source and `dot`", len(diagrams), median_seconds(rendered("svg"), repeat)),
                ("PNG, source and `dot`", len(diagrams), median_seconds(rendered("png"), repeat)),
                ("`casework diagram --all` (fresh process, SVG and PNG)", 2 * len(diagrams),
                 median_seconds(lambda: subprocess.run(command, check=True, capture_output=True), repeat))]
    print(f"{len(definitions)} protocols, {len(diagrams)} diagrams ({len(ALL_VIEWS)} views each); "
          f"median of {repeat}")
    print()
    print("| what | files | median | per file |")
    print("| --- | ---: | ---: | ---: |")
    for what, files, seconds in rows:
        print(f"| {what} | {files} | {seconds * 1000:,.0f} ms | {seconds / files * 1000:,.1f} ms |")


if __name__ == "__main__":
    main()
