"""Entry point: ``casework`` and its command groups."""
from __future__ import annotations

import sys
from datetime import datetime

import click

from .app import Root, State, fail, machines_from_env, pause_collector
from .options import When
from .case import case
from .handbook import handbook
from .audit import audit
from .bulk import import_actions
from .daily import mine
from .misc import demo, diagram, due, init
from .policy import policy
from .staff import staff
from .team import team

__all__ = ["cli", "main"]


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="URL", envvar="CASEWORK_DB",
              help="Store: a SQLAlchemy URL or a SQLite file path (default ./casework.db).")
@click.option("--machines", "machines", metavar="DIR", multiple=True,
              help="Extra directory of protocol definitions (repeatable; also CASEWORK_MACHINES).")
@click.option("--clock", type=When(), envvar="CASEWORK_CLOCK", metavar="WHEN",
              help="Act as if it were WHEN (training sandboxes only; see `init --sandbox`).")
@click.version_option(package_name="casework")
@click.pass_context
def cli(ctx: click.Context, db: str | None, machines: tuple[str, ...], clock: datetime | None) -> None:
    """casework: children's social care protocols as executable, auditable state machines.

    Exit codes: 0 done, 1 refused by policy, 2 bad input or usage, 3 conflict.
    """
    ctx.obj = State(db, machines or machines_from_env(), clock)
    ctx.call_on_close(ctx.obj.close)


for command in (init, demo, mine, diagram, handbook, due, audit, staff, team, case, policy, import_actions):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    pause_collector()
    for number, arg in enumerate(sys.argv[1:], 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8, which Python carries as lone surrogates
            fail(f"Error: argument {number} is not valid UTF-8 text; give names and notes in UTF-8.", 2)
    cli(prog_name="casework")
