"""`casework handbook`: a protocol's static HTML handbook for training."""
from __future__ import annotations

import time
from pathlib import Path

import click

from .app import State, pass_state

__all__ = ["handbook"]


class _Progress:
    """One line per protocol on stderr, once writing has taken more than a second (a quick run prints none)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        #: the lines of protocols written before the first second was up, each with its time
        self.waiting: list[str] = []

    def __call__(self, name: str, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.start
        self.waiting.append(f"  [{done}/{total}] {name} ({elapsed:.1f} s)")
        if elapsed > 1.0:
            for line in self.waiting:
                click.echo(line, err=True)
            self.waiting.clear()


@click.command()
@click.argument("policy_name", metavar="POLICY", required=False)
@click.option("--all", "all_policies", is_flag=True,
              help="Every protocol, each into DIR/<policy>/, with an index.html listing them.")
@click.option("-o", "--output", metavar="DIR", type=click.Path(file_okay=False), required=True,
              help="Directory to write the pages and diagrams into (created if missing).")
@pass_state
def handbook(state: State, policy_name: str | None, all_policies: bool, output: str) -> None:
    """Write POLICY's handbook as static HTML: diagrams, states, events, rules and the national comparison.

    Open DIR/index.html in a browser: it needs no server and no network.
    """
    from casework.workflow.handbook import write_handbook, write_handbooks

    if all_policies == bool(policy_name):
        raise click.UsageError("Name one POLICY, or use --all.")
    if policy_name is None:
        written = write_handbooks(state.cw.policies, output, _Progress())
    else:
        written = write_handbook(state.cw.policies, policy_name, output)
    click.echo(f"Wrote {len(written)} files into {output}; open {Path(output) / 'index.html'}", err=True)
