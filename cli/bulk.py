"""`casework import`: many actions from a file of JSON lines, judged one by one, committed in groups."""
from __future__ import annotations

import sys
from typing import IO

import click

from .app import State, emit_json, pass_state
from .options import json_option

__all__ = ["import_actions"]


@click.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"), metavar="FILE")
@click.option("--group", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Actions per transaction: each group is committed as a whole.")
@click.option("--clock-from-file", is_flag=True,
              help="Training sandboxes: each action is recorded at its own 'at', as if it happened then.")
@click.option("--from-line", "start", type=click.IntRange(1), default=1, show_default=True,
              help="Start at this line (after an import that stopped, the line it names).")
@json_option
@pass_state
def import_actions(state: State, source: IO[str], group: int, clock_from_file: bool, start: int,
                   as_json: bool) -> None:
    """Do the actions in FILE (JSON lines; '-' for standard input), each judged exactly as the command that
    makes it alone would judge it.

    One line per action, e.g. {"do": "move", "case": "N-1", "event": "start_cin_plan", "as": "sw",
    "at": "2026-01-06T09:00Z"}; 'do' is staff, update_staff, leave_staff, open, allocate, record or move
    (the fields of each are in the README). A refused line keeps its audited attempt; a line that cannot be
    done writes nothing; both are reported with their line number and the rest go on. Exit code: 0 all done,
    2 a bad line, else 3 a conflict, else 1 a refusal.
    """
    from casework.workflow import bulk

    def shown(line: int) -> None:
        click.echo(f"... committed through line {line}", err=True)

    report = bulk.apply(state.cw, source, group=group, clock_from_file=clock_from_file, start=start,
                        progress=shown if sys.stderr.isatty() else None)
    if as_json:
        emit_json(report.to_dict())
    else:
        for problem in report.problems:
            click.echo(f"Line {problem.line} ({problem.kind}): {problem.message}", err=True)
        applied, left = report.applied, len(report.problems)
        click.echo(f"Imported {applied} action{'s' * (applied != 1)}; {left} line{'s' * (left != 1)} not done.")
    sys.exit(report.exit_code)
