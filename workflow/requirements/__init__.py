"""Requirement kinds: the checks a definition names, each a frozen dataclass registered by its YAML name.

``workflow.schema`` holds ``RequirementItem``, the pydantic type that turns the compact YAML
forms into the registered kind, so a misspelt kind or parameter is reported with its exact
YAML path; nothing here imports pydantic.
"""
from __future__ import annotations

from .actor import ActorClause, ActorHasRole, ActorIsQualified, WhoMayAct, clauses_phrase
from .base import REGISTRY, Context, Requirement, register
from .facts import EventHappened, FactRecorded, LatestFact
from .lead import (CaseInStates, CaseloadWithin, LeadAllocated, LeadHasRole, LeadHasTraining, LeadInCaseTeam,
                   LeadIsRegisteredSocialWorker, LeadPcfLevel, LeadWasFormerLead, SupervisedIfUnqualified,
                   WorkerAllocated, WorkerHasRole)
from .logic import AnyOf, NoneOf
from .scope import InTeams, NotOverdue, ReasonGiven, WithinDates

__all__ = ["REGISTRY", "Context", "Requirement", "ActorClause", "register", "clauses_phrase",
           # the kinds themselves
           "WhoMayAct", "ActorHasRole", "ActorIsQualified", "FactRecorded", "LatestFact", "EventHappened",
           "LeadAllocated", "LeadIsRegisteredSocialWorker", "SupervisedIfUnqualified", "LeadHasRole", "LeadHasTraining",
           "LeadPcfLevel", "WorkerAllocated", "LeadInCaseTeam", "LeadWasFormerLead", "CaseInStates", "WorkerHasRole",
           "CaseloadWithin", "AnyOf", "NoneOf", "InTeams", "WithinDates", "ReasonGiven", "NotOverdue"]
