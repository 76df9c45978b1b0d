"""`casework handbook`: a protocol's static HTML handbook for training."""
from __future__ import annotations

import click

from .app import State, pass_state

__all__ = ["handbook"]


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
        written = write_handbooks(state.cw.policies, output)
    else:
        written = write_handbook(state.cw.policies, policy_name, output)
    click.echo(f"Wrote {len(written)} files into {output}; open {output}/index.html", err=True)
