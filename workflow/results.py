"""What a successful action on a case returns: its verdict, and the case afterwards when asked for."""
from __future__ import annotations

from functools import cached_property
from typing import Any, Callable

from .verdict import Verdict

__all__ = ["MoveResult"]


class MoveResult:
    """What a successful action did: its verdict and the case afterwards.

    ``case`` (the summary with what is due) is built on first use, as of the action's
    day: a service that makes many moves and needs only the verdict skips the deadline
    arithmetic.
    """

    def __init__(self, verdict: Verdict, summarise: Callable[[], dict[str, Any]]):
        self.verdict = verdict
        self._summarise = summarise

    @cached_property
    def case(self) -> dict[str, Any]:
        """The case after the action, as :func:`show_case` gives it."""
        return self._summarise()
