"""Closing a case for a coded reason: the reason picks the move, and the move is judged as any other.

People close cases for a reason that is reported (the CIN census's reason for closure), not by
naming a move: ``case close CASE RC8`` finds the one move from the case's state into the ended
state that reason names (RC9, early help, leads to the stepped-down state), and makes it with the
reason in the audit entry (its code in ``closure_reason``, its words as the move's reason), so
every guard of that move applies unchanged.
"""
from __future__ import annotations

from .definition import Definition
from ..errors import BadInput, UnknownName

__all__ = ["closing_move", "closure_text", "UnknownClosureReason"]


class UnknownClosureReason(UnknownName):
    what = "closure reason"


def closing_move(definition: Definition, state: str, code: str) -> str:
    """The move that closes a case in *state* for the reason *code* (BadInput when there is not exactly one)."""
    reason = definition.closure_reasons.get(code)
    if not definition.closure_reasons:
        raise BadInput(f"{definition.title or definition.name} version {definition.version}, which this case runs "
                       f"under, lists no closure reasons: close it with 'casework case move', or migrate it first "
                       f"('casework policy migrate {definition.name} --to VERSION').")
    if reason is None:
        listed = "; ".join(f"{c} {r.title}" for c, r in definition.closure_reasons.items()) or "none"
        raise UnknownClosureReason(code, definition.closure_reasons, f"in {definition.title or definition.name} "
                                                                    f"(its reasons: {listed})")
    moves = [name for name, event in definition.events_from(state) if event.to == reason.to]
    here, there = definition.states[state].title or state, definition.states[reason.to].title or reason.to
    if not definition.states[state].open:
        raise BadInput(f"The case has ended already ({here}).")
    if not moves:
        raise BadInput(f"A case in {here} cannot be closed as '{reason.title}': no move of "
                       f"{definition.title or definition.name} goes from {here} to {there}.")
    if len(moves) > 1:
        raise BadInput(f"More than one move goes from {here} to {there} ({', '.join(moves)}): make the one meant "
                       f"with 'casework case move'.")
    return moves[0]


def closure_text(definition: Definition, code: str, note: str | None) -> str:
    """The move's reason for a closure: the code, its words, and the practitioner's note if any."""
    return f"{code} {definition.closure_reasons[code].title}" + (f": {note.strip()}" if note and note.strip() else "")
