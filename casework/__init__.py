"""casework: children's social care protocols as executable, auditable state machines.

The front door for a service that embeds casework::

    import casework

    cw = casework.open_casework("sqlite:///embedded.db")
    casework.init_store(cw)
    casework.move_case(cw, "C-1", "decide_assessment", actor="tm")

Everything here is also where it lives (``casework.workflow.service``, ``casework.errors``,
``casework.workflow.verdict``); the names load on first use, so ``import casework`` (and the CLI,
which lives under it) costs nothing until one is used.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    # the workspace
    "Casework", "open_casework",
    # the service functions (one per thing a user does)
    "init_store", "add_staff", "update_staff", "leave_staff", "list_staff", "open_case", "allocate", "record_fact",
    "move_case", "explain", "available", "preview_allocation", "preview_record", "show_case", "case_history",
    "list_cases", "due_items", "verify_audit", "migrate_cases", "MoveResult", "AuditReport", "KEEP",
    # many actions at once (JSON lines, committed in groups)
    "apply_actions", "BulkReport",
    # verdicts
    "Verdict", "Unmet",
    # errors
    "CaseworkError", "BadInput", "InvalidDefinition", "DefinitionProblem", "UnknownName", "CaseNotFound",
    "StaffNotFound", "UnknownPolicy", "UnknownEvent", "UnknownFact", "StoreNotReady", "IdentityRefused",
    "MissingArguments", "Refused", "TransitionRefused", "AllocationRefused", "RecordRefused",
    "StaffChangeRefused", "AuditBroken", "Conflict", "ConcurrentUpdate", "LostRace", "AlreadyExists",
]

_HOME = {
    **dict.fromkeys(("Casework", "open_casework"), "casework.workflow.workspace"),
    **dict.fromkeys(("init_store", "add_staff", "update_staff", "leave_staff", "list_staff", "open_case",
                     "allocate", "record_fact", "move_case", "explain", "available", "preview_allocation",
                     "preview_record", "show_case", "case_history", "list_cases", "verify_audit", "migrate_cases",
                     "MoveResult", "AuditReport", "KEEP"), "casework.workflow.service"),
    "due_items": "casework.workflow.oversight",
    **dict.fromkeys(("apply_actions", "BulkReport"), "casework.workflow.bulk"),
    **dict.fromkeys(("Verdict", "Unmet"), "casework.workflow.verdict"),
}

if TYPE_CHECKING:
    from .errors import (AllocationRefused, AlreadyExists, AuditBroken, BadInput, CaseNotFound,
                                  CaseworkError, ConcurrentUpdate, Conflict, DefinitionProblem, IdentityRefused,
                                  InvalidDefinition, LostRace, MissingArguments, RecordRefused, Refused,
                                  StaffChangeRefused, StaffNotFound, StoreNotReady, TransitionRefused, UnknownEvent,
                                  UnknownFact, UnknownName, UnknownPolicy)
    from .workflow.bulk import BulkReport, apply_actions
    from .workflow.oversight import due_items
    from .workflow.service import (KEEP, AuditReport, MoveResult, add_staff, allocate, available, case_history,
                                   explain, init_store, leave_staff, list_cases, list_staff, migrate_cases,
                                   move_case, open_case, preview_allocation, preview_record, record_fact,
                                   show_case, update_staff, verify_audit)
    from .workflow.verdict import Unmet, Verdict
    from .workflow.workspace import Casework, open_casework


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'casework' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME.get(name, "casework.errors")), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
