"""Parts of the store by case, for verifiers that share the work (workflow.audit_pass): what a part holds.

A module of names only, so that both the statements and the readers can use it.
"""
from __future__ import annotations

__all__ = ["PER_CASE", "Span"]

#: the tables whose rows each belong to one case, so a part of the store holds some of their rows
PER_CASE = ("cases", "allocations", "holders", "facts", "markers", "due_dates", "due_cases")
#: a part of the store: the cases from one id (inclusive) up to another (exclusive); None: no bound
Span = tuple[str | None, str | None]
