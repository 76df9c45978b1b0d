"""`casework mine`: a practitioner's own open cases, what is due next on each, and what they may do now."""
from __future__ import annotations

from datetime import date

import click

from .app import State, emit, pass_state
from .options import Day, as_option, json_option
from .output import caseload_text

__all__ = ["mine"]


@click.command()
@as_option
@click.option("--as-of", type=Day(), help="The day to judge what is due by (default today).")
@json_option
@pass_state
def mine(state: State, actor: str, as_of: date | None, as_json: bool) -> None:
    """Your open cases (as lead, supervisor or worker), most urgent first: what is due next and the moves
    you may make now."""
    from casework.workflow import service

    held = service.my_cases(state.cw, actor, as_of)
    emit([h.to_dict() for h in held], as_json, lambda: caseload_text(actor, held))
