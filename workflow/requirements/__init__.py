"""Requirement kinds and the pydantic type that parses them from YAML.

``RequirementItem`` accepts the compact YAML forms and turns them into the registered
kind, so a misspelt kind or parameter is reported with its exact YAML path.
"""
from __future__ import annotations

from difflib import get_close_matches
from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from . import logic
from .actor import ActorClause, ActorHasRole, ActorIsQualified, Role, WhoMayAct, clauses_phrase
from .base import REGISTRY, Context, Requirement, register
from .facts import EventHappened, FactRecorded, LatestFact
from .lead import (CaseInStates, CaseloadWithin, LeadAllocated, LeadHasRole, LeadHasTraining, LeadInCaseTeam,
                   LeadIsRegisteredSocialWorker, LeadPcfLevel, LeadWasFormerLead, SupervisedIfUnqualified,
                   WorkerAllocated, WorkerHasRole)
from .logic import AnyOf, NoneOf
from .scope import InTeams, NotOverdue, ReasonGiven, WithinDates

__all__ = ["REGISTRY", "Context", "Requirement", "RequirementItem", "ActorClause", "Role",
           "register", "clauses_phrase", "normalise",
           # the kinds themselves
           "WhoMayAct", "ActorHasRole", "ActorIsQualified", "FactRecorded", "LatestFact", "EventHappened",
           "LeadAllocated", "LeadIsRegisteredSocialWorker", "SupervisedIfUnqualified", "LeadHasRole", "LeadHasTraining",
           "LeadPcfLevel", "WorkerAllocated", "LeadInCaseTeam", "LeadWasFormerLead", "CaseInStates", "WorkerHasRole",
           "CaseloadWithin", "AnyOf", "NoneOf", "InTeams", "WithinDates", "ReasonGiven", "NotOverdue"]

_META = ("rules", "says", "origin")


def normalise(raw: Any) -> Any:
    """Compact YAML form → ``{'kind': K, **params, rules, says}`` for the tagged union."""
    if isinstance(raw, Requirement):
        return raw
    if isinstance(raw, str):
        raw = {raw: None}
    if isinstance(raw, dict) and isinstance(raw.get("kind"), str) and raw["kind"] in REGISTRY:
        return raw  # already the tagged form: a definition kept in the store (model_dump) read back
    if not isinstance(raw, dict):
        raise PydanticCustomError(
            "requirement_form",
            "a requirement is a kind name or a mapping such as '{fact_recorded: name}', not {got}",
            {"got": type(raw).__name__})
    kinds = [k for k in raw if k not in _META]
    if len(kinds) != 1:
        raise PydanticCustomError(
            "requirement_kinds",
            "each requirement names exactly one kind (besides 'rules' and 'says'), found: {found}",
            {"found": ", ".join(map(str, kinds)) or "none"})
    kind = kinds[0]
    cls = REGISTRY.get(kind)
    if cls is None:
        close = get_close_matches(str(kind), REGISTRY, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "known kinds: " + ", ".join(sorted(REGISTRY))
        raise PydanticCustomError("requirement_kind", "unknown requirement kind '{kind}'; {hint}",
                                  {"kind": kind, "hint": hint})
    value = raw[kind]
    if value is None:
        params: dict[str, Any] = {}
    elif isinstance(value, dict):
        params = dict(value)
    elif cls.primary is None:
        raise PydanticCustomError("requirement_value", "'{kind}' takes no value; write '- {kind}'",
                                  {"kind": kind})
    else:
        params = {cls.primary: value}
    params.update({k: raw[k] for k in _META if k in raw})
    params["kind"] = kind
    return params


#: every requirement kind, one of them chosen by its 'kind' (a test keeps this list equal to the registry)
RequirementItem = Annotated[
    Union[WhoMayAct, ActorHasRole, ActorIsQualified, FactRecorded, LatestFact, EventHappened, LeadAllocated,
          LeadIsRegisteredSocialWorker, SupervisedIfUnqualified, LeadHasRole, LeadHasTraining, LeadPcfLevel,
          WorkerAllocated, LeadInCaseTeam, LeadWasFormerLead, CaseInStates, WorkerHasRole, CaseloadWithin, AnyOf,
          NoneOf, InTeams, WithinDates, ReasonGiven, NotOverdue],
    Field(discriminator="kind"),
    BeforeValidator(normalise),
]

#: the combinators' options are requirements of any kind: their forward reference resolves here, when pydantic
#: first builds their validators (models defer that to their first use, so a start-up spends nothing on it)
logic.RequirementItem = RequirementItem  # type: ignore[attr-defined]
