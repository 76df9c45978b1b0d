"""Requirements on who holds the case: the lead practitioner, supervisor and worker.

At allocation time these are evaluated against the *proposed* case, so the same kind
("lead_has_training") both guards a move and decides whether someone may become lead.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Literal

from ..clock import day_words
from ..people import Staff
from ..roles import roles_phrase
from .actor import ActorClause, clauses_phrase
from .base import MANY, Context, Requirement, people_phrase, register
from .wording import state_named, states_named

if TYPE_CHECKING:  # pragma: no cover
    from ..definition import Definition
    from ..schema import Field, PcfLevel, Role

__all__ = [
    "LeadAllocated", "LeadIsRegisteredSocialWorker", "SupervisedIfUnqualified",
    "LeadHasRole", "LeadHasTraining", "LeadPcfLevel", "WorkerAllocated",
]


def _reallocators(ctx: Context, clauses: "tuple[ActorClause, ...] | None" = None) -> str:
    """Who may (re)allocate the case now, to begin a sentence: by name when the staff list is known, else in
    words."""
    clauses = clauses or ctx.definition.allocation.who
    if ctx.staff is not None:
        base = replace(ctx, case=ctx.now_case, current=None, staff=None)
        able = [p for p in ctx.active_staff() if any(c.matches(p, replace(base, actor=p)) for c in clauses)]
        if able:
            return people_phrase(able)
    return _cap(clauses_phrase(clauses))


def _cap(text: str) -> str:
    """First letter upper case, the rest as written (staff ids stay as they are)."""
    return text[:1].upper() + text[1:]


def _registration_note(staff: Staff, ctx: Context) -> str:
    if staff.registration and staff.registered_until and staff.registered_until < ctx.day:
        return f" (registration {staff.registration} lapsed on {day_words(staff.registered_until)})"
    return ""


@register
class LeadAllocated(Requirement):
    """The case has its one lead practitioner."""

    kind: Literal["lead_allocated"] = "lead_allocated"

    def holds(self, ctx: Context) -> bool:
        return ctx.case.lead is not None

    def describe(self, d: "Definition | None" = None) -> str:
        return "The case must have an allocated lead practitioner"

    def explain(self, ctx: Context) -> str:
        return f"Case {ctx.case.id} has no allocated lead practitioner"

    def who_could(self, ctx: Context) -> str:
        return f"{_reallocators(ctx)} must allocate a lead practitioner."


@register
class LeadIsRegisteredSocialWorker(Requirement):
    """The lead practitioner is a social worker with a current Social Work England registration."""

    kind: Literal["lead_is_registered_social_worker"] = "lead_is_registered_social_worker"

    def holds(self, ctx: Context) -> bool:
        lead = ctx.case.lead
        return lead is not None and lead.qualified_on(ctx.day)

    def describe(self, d: "Definition | None" = None) -> str:
        return "The lead practitioner must be a registered social worker"

    def explain(self, ctx: Context) -> str:
        lead = ctx.case.lead
        if lead is None:
            return f"Case {ctx.case.id} has no lead practitioner, and this needs a registered social worker as lead"
        return (f"Lead practitioner {lead.label} is not a registered social worker"
                f"{_registration_note(lead, ctx)} on {day_words(ctx.day)}")

    def who_could(self, ctx: Context) -> str:
        return f"{_reallocators(ctx)} must first reallocate the case to a registered social worker."


@register
class SupervisedIfUnqualified(Requirement):
    """A lead who is not social-work-qualified has a named, qualified supervisor."""

    kind: Literal["supervised_if_unqualified"] = "supervised_if_unqualified"

    def holds(self, ctx: Context) -> bool:
        lead, sup = ctx.case.lead, ctx.case.supervisor
        if lead is None or lead.qualified_on(ctx.day):
            return True
        return sup is not None and sup.qualified_on(ctx.day)

    def describe(self, d: "Definition | None" = None) -> str:
        return ("A lead practitioner who is not social-work-qualified must have a named "
                "social-work-qualified supervisor")

    def explain(self, ctx: Context) -> str:
        lead, sup = ctx.case.lead, ctx.case.supervisor
        if lead is None:
            return self.describe()
        if sup is None:
            return f"Lead practitioner {lead.label} is not social-work-qualified and has no named supervisor"
        return (f"Supervisor {sup.label} is not social-work-qualified{_registration_note(sup, ctx)}, "
                f"so cannot oversee lead practitioner {lead.label}")

    def who_could(self, ctx: Context) -> str:
        return f"{_reallocators(ctx)} must name a social-work-qualified supervisor."


@register
class LeadHasRole(Requirement):
    """The lead practitioner holds one of these roles."""

    kind: Literal["lead_has_role"] = "lead_has_role"
    primary = "roles"
    roles: Annotated[tuple[Role, ...], Field(min_length=1, max_length=MANY)]

    def holds(self, ctx: Context) -> bool:
        lead = ctx.case.lead
        return lead is not None and bool(lead.roles & set(self.roles))

    def describe(self, d: "Definition | None" = None) -> str:
        return f"The lead practitioner must be a {roles_phrase(self.roles)}"

    def who_could(self, ctx: Context) -> str:
        return f"{_reallocators(ctx)} must reallocate the case to a {roles_phrase(self.roles)}."


@register
class LeadHasTraining(Requirement):
    """The lead practitioner has completed the named training (on their staff record)."""

    kind: Literal["lead_has_training"] = "lead_has_training"
    primary = "training"
    training: Annotated[tuple[str, ...], Field(min_length=1, max_length=MANY)]

    def holds(self, ctx: Context) -> bool:
        lead = ctx.case.lead
        return lead is not None and set(self.training) <= lead.training

    def describe(self, d: "Definition | None" = None) -> str:
        return f"The lead practitioner must have completed the training: {', '.join(self.training)}"

    def explain(self, ctx: Context) -> str:
        lead = ctx.case.lead
        missing = sorted(set(self.training) - (lead.training if lead else frozenset()))
        who = lead.label if lead else "the lead practitioner"
        return f"{who} has not completed the training: {', '.join(missing)}"

    def who_could(self, ctx: Context) -> str:
        return ("Record the completed training on the staff record "
                f"(casework staff add ... --training {self.training[0]}).")


@register
class LeadPcfLevel(Requirement):
    """The lead (or worker, for students) is at a PCF level within the bounds."""

    kind: Literal["lead_pcf_level"] = "lead_pcf_level"
    primary = "minimum"
    minimum: PcfLevel = 1
    maximum: PcfLevel = 9
    of: Literal["lead", "worker"] = "lead"

    def __post_init__(self) -> None:
        if self.maximum < self.minimum:
            raise ValueError(f"'maximum' {self.maximum} is below 'minimum' {self.minimum}")

    def _person(self, ctx: Context) -> Staff | None:
        return ctx.case.worker if self.of == "worker" else ctx.case.lead

    def holds(self, ctx: Context) -> bool:
        person = self._person(ctx)
        return person is not None and person.pcf_level is not None and \
            self.minimum <= person.pcf_level <= self.maximum

    def describe(self, d: "Definition | None" = None) -> str:
        return f"The {self.of}'s PCF level must be between {self.minimum} and {self.maximum}"

    def explain(self, ctx: Context) -> str:
        person = self._person(ctx)
        level = person.pcf_level if person else None
        name = person.label if person else f"the {self.of}"
        return f"{name} is at PCF level {level}, outside levels {self.minimum} to {self.maximum}"

    def who_could(self, ctx: Context) -> str:
        return f"Allocate someone at PCF level {self.minimum} to {self.maximum}."


@register
class WorkerAllocated(Requirement):
    """A worker (e.g. a student) is allocated alongside the case holder."""

    kind: Literal["worker_allocated"] = "worker_allocated"

    def holds(self, ctx: Context) -> bool:
        return ctx.case.worker is not None

    def describe(self, d: "Definition | None" = None) -> str:
        return "A worker must be allocated to the case"

    def who_could(self, ctx: Context) -> str:
        return f"{_reallocators(ctx)} must allocate a worker."


@register
class LeadInCaseTeam(Requirement):
    """The lead practitioner belongs to the case's team (consistent team manager oversight)."""

    kind: Literal["lead_in_case_team"] = "lead_in_case_team"

    def holds(self, ctx: Context) -> bool:
        return ctx.case.lead is not None and ctx.case.lead.team == ctx.case.team

    def describe(self, d: "Definition | None" = None) -> str:
        return "The lead practitioner must belong to the case's team"

    def explain(self, ctx: Context) -> str:
        lead = ctx.case.lead
        if lead is None:
            return f"Case {ctx.case.id} has no lead practitioner in its team, {ctx.case.team}"
        return f"Lead practitioner {lead.label} is in team {lead.team or '(none)'}, not the case's team, {ctx.case.team}"

    def who_could(self, ctx: Context) -> str:
        return f"Allocate a practitioner of team {ctx.case.team}."


@register
class LeadWasFormerLead(Requirement):
    """The lead practitioner held this case before (a return minimises the transition)."""

    kind: Literal["lead_was_former_lead"] = "lead_was_former_lead"

    def holds(self, ctx: Context) -> bool:
        # who led the case before this action: the proposed case of an allocation no longer counts its incoming
        # lead among its former leads
        return ctx.case.lead is not None and ctx.case.lead.id in ctx.now_case.former_leads

    def describe(self, d: "Definition | None" = None) -> str:
        return "The lead practitioner must be someone who held the case before"

    def who_could(self, ctx: Context) -> str:
        current = ctx.now_case.lead
        former = [f for f in ctx.now_case.former_leads if current is None or f != current.id]
        if ctx.staff is not None:
            by_id = {p.id: p for p in ctx.active_staff()}
            still = [by_id[f] for f in former if f in by_id]
            if not still:
                return "Nobody who led the case before is still in post."
            return f"Reallocate to someone who led the case before: {people_phrase(still)}."
        return f"Reallocate to a former lead ({', '.join(former) or 'nobody yet'})."


@register
class CaseInStates(Requirement):
    """The case is in one of these states (e.g. co-allocation only during the CIN period)."""

    kind: Literal["case_in_states"] = "case_in_states"
    primary = "states"
    states: Annotated[tuple[str, ...], Field(min_length=1, max_length=MANY)]

    def holds(self, ctx: Context) -> bool:
        return ctx.case.state in self.states

    def describe(self, d: "Definition | None" = None) -> str:
        if d is None:
            return f"Only while the case is in: {', '.join(self.states)}"
        return f"The case must be at {states_named(self.states, d)}"

    def explain(self, ctx: Context) -> str:
        d = ctx.definition
        return (f"Case {ctx.case.id} is at {state_named(ctx.case.state, d)}; this is only possible at "
                f"{states_named(self.states, d)}")

    def who_could(self, ctx: Context) -> str:
        return "Nobody can in this state."

    def references(self) -> dict[str, tuple[str, ...]]:
        return {"states": self.states}


@register
class WorkerHasRole(Requirement):
    """The worker allocated alongside the lead holds one of these roles."""

    kind: Literal["worker_has_role"] = "worker_has_role"
    primary = "roles"
    roles: Annotated[tuple[Role, ...], Field(min_length=1, max_length=MANY)]

    def holds(self, ctx: Context) -> bool:
        worker = ctx.case.worker
        return worker is not None and bool(worker.roles & set(self.roles))

    def describe(self, d: "Definition | None" = None) -> str:
        return f"The worker must be a {roles_phrase(self.roles)}"

    def explain(self, ctx: Context) -> str:
        worker = ctx.case.worker
        return f"The worker is {worker.label if worker else 'nobody'}"

    def who_could(self, ctx: Context) -> str:
        return f"{self._changers(ctx)} can change the worker."

    @staticmethod
    def _changers(ctx: Context) -> str:
        alloc = ctx.definition.allocation
        return _reallocators(ctx, alloc.workers_who or alloc.who)

    def explain_held(self, ctx: Context) -> str:
        sentence = self.explain(ctx)
        return sentence[:1].lower() + sentence[1:]

    def undo_who(self, ctx: Context) -> str:
        return f"{self._changers(ctx)} can reallocate the worker's part first."


@register
class CaseloadWithin(Requirement):
    """The lead's (or worker's) open caseload stays within the cap for their PCF level."""

    kind: Literal["caseload_within"] = "caseload_within"
    primary = "caps"
    #: PCF level → the most open cases someone at that level may hold (as lead or worker)
    caps: Annotated[dict[PcfLevel, Annotated[int, Field(ge=0, le=1000)]], Field(min_length=1)]
    of: Literal["lead", "worker"] = "lead"

    def _person(self, ctx: Context) -> Staff | None:
        return ctx.case.worker if self.of == "worker" else ctx.case.lead

    def holds(self, ctx: Context) -> bool:
        person = self._person(ctx)
        if person is None:
            return True
        cap = self.caps.get(person.pcf_level or 0)
        return cap is not None and person.caseload + 1 <= cap

    def describe(self, d: "Definition | None" = None) -> str:
        caps = ", ".join(f"level {level}: {cap}" for level, cap in sorted(self.caps.items()))
        return f"The {self.of}'s caseload must fit their PCF level ({caps})"

    def explain(self, ctx: Context) -> str:
        person = self._person(ctx)
        if person is None:
            return self.describe()
        cap = self.caps.get(person.pcf_level or 0)
        if cap is None:
            return f"{person.label} has no PCF level with a caseload cap (level {person.pcf_level})"
        return f"{person.label} already holds {person.caseload} open cases; PCF level {person.pcf_level} allows {cap}"

    def who_could(self, ctx: Context) -> str:
        return "Allocate someone with room in their caseload, or close or reallocate one of theirs first."
