"""Allocation verdicts: who may hold a case (lead, supervisor, worker), as the definition says.

The candidate's requirements are evaluated against the *proposed* case, so "the lead has
completed the training" is asked of the person about to become lead.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .catalogue import NATIONAL
from .clock import day_of
from .definition import Definition, HolderPolicy
from .people import Case, Staff
from .requirements import ActorClause, Context, clauses_phrase
from .requirements.base import people_phrase
from .requirements.actor import WhoMayAct
from .roles import roles_phrase
from .verdict import Unmet, Verdict, cited

__all__ = ["explain_allocation", "proposed_case"]


def proposed_case(case: Case, lead: Staff, supervisor: Staff | None, worker: Staff | None) -> Case:
    """The case as it would be after the allocation (the outgoing lead remembered)."""
    changed = case.lead is not None and case.lead.id != lead.id
    previous = case.lead if changed else case.previous_lead
    former = case.former_leads
    if changed and case.lead is not None:
        former = (case.lead.id, *(f for f in former if f not in (case.lead.id, lead.id)))
    # a holder the allocation keeps is judged on the evidence their own hand-over was given on: "since the lead
    # changed" then means since the lead before them took the case
    kept = {slot for slot, was, now in (("lead", case.lead, lead), ("supervisor", case.supervisor, supervisor),
                                        ("worker", case.worker, worker))
            if was is not None and now is not None and was.id == now.id}
    since = {slot: at for slot, at in case.holder_since.items() if slot not in kept}
    since.update({slot: case.holder_prior[slot] for slot in kept if slot in case.holder_prior})
    return replace(case, lead=lead, supervisor=supervisor, worker=worker, previous_lead=previous,
                   former_leads=former, facts=case.facts, holder_since=since)


def _local_first(policies: "list[HolderPolicy] | tuple[HolderPolicy, ...]") -> list[HolderPolicy]:
    """Policies a local protocol wrote before the national ones: a refusal cites the local rule first."""
    return sorted(policies, key=lambda p: p.origin in ("", NATIONAL))


def _holder(policies: tuple[HolderPolicy, ...], person: Staff, slot: str, path: str,
            ctx: Context) -> list[Unmet]:
    matching = [p for p in policies if person.roles & set(p.roles)]
    if not matching:
        allowed = sorted({r for p in policies for r in p.roles})
        # the policies' own rules (a local protocol's first), then the national rule on who may lead
        rules = tuple(dict.fromkeys((*(r for p in _local_first(policies) for r in p.rules),
                                     *(("WT-2",) if slot == "lead" else ()))))
        return [Unmet(f"{slot}_role",
                      f"{person.label} may not be {slot} under this protocol; it allows: "
                      f"{roles_phrase(allowed) or 'nobody'}",
                      rules or ("WT-7",),
                      _instead(policies, slot, path, ctx, f"a {roles_phrase(allowed)}") if allowed else "",
                      {"roles": sorted(person.roles)})]
    on_path = [p for p in matching if path in p.paths]
    if not on_path:
        where = "child protection" if path == "cp" else "Child in Need"
        rules = (tuple(dict.fromkeys(r for p in _local_first(matching) for r in p.rules))
                 + (("WT-5",) if path == "cp" else ()))
        return [Unmet(f"{slot}_path",
                      f"{person.label} may not be {slot} of a {where} case; case {ctx.case.id} is in "
                      f"{ctx.case.state!r}",
                      tuple(dict.fromkeys(rules)),
                      _instead(policies, slot, path, ctx, "a registered social worker" if path == "cp"
                               else "someone the protocol lets hold it"),
                      {"path": path})]
    best: list[Unmet] | None = None
    for policy in on_path:
        unmet = [u for r in (*policy.requires, *policy.keeps) if (u := r.unmet(ctx)) is not None]
        if not unmet:
            return []
        if best is None or len(unmet) < len(best):
            best = unmet
    return best or []


def _instead(policies: tuple[HolderPolicy, ...], slot: str, path: str, ctx: Context, words: str) -> str:
    """'Allocate a registered social worker instead: sw (social worker), pat (team leader)': the people on the
    staff list who could hold the slot now (each judged as the proposed holder)."""
    if ctx.staff is None:
        return f"Allocate {words} instead."
    base = replace(ctx, staff=None)
    able = []
    for person in ctx.active_staff():
        proposed = replace(ctx.case, **{slot: person})  # type: ignore[arg-type]  # slot: lead, supervisor or worker
        if not _holder(policies, person, slot, path, replace(base, case=proposed)):
            able.append(person)
    return f"Allocate {words} instead: {people_phrase(able)}." if able else f"Nobody on the staff list can be {slot} now."


def _id(person: Staff | None) -> str | None:
    return person.id if person is not None else None


def _who_may(case: Case, lead: Staff, supervisor: Staff | None, worker: Staff | None,
             who: tuple[ActorClause, ...], workers_who: tuple[ActorClause, ...]) -> list[tuple[ActorClause, ...]]:
    """The clauses the person acting must fit: ``who`` to change the lead or supervisor (or to confirm
    them), ``workers_who`` (default ``who``) to change the co-allocated worker."""
    holders_change = _id(case.lead) != lead.id or _id(case.supervisor) != _id(supervisor)
    worker_changes = _id(case.worker) != _id(worker)
    needed = [who] if holders_change or not worker_changes else []
    if worker_changes and (workers_who or who) not in needed:
        needed.append(workers_who or who)
    return needed


def explain_allocation(definition: Definition, case: Case, actor: Staff, at: datetime, lead: Staff,
                       supervisor: Staff | None = None, worker: Staff | None = None,
                       reason: str | None = None, staff: tuple[Staff, ...] | None = None) -> Verdict:
    """May *actor* make *lead* (with *supervisor*, *worker*) hold *case* now? With *staff* (everyone on the
    staff list), each unmet item names the people who could meet it."""
    day = day_of(at)
    alloc = definition.allocation
    now = Context(case, actor, at, day, definition, reason, staff)
    proposed = proposed_case(case, lead, supervisor, worker)
    ctx = Context(proposed, actor, at, day, definition, reason, staff, current=case)
    unmet: list[Unmet] = []
    for clauses in _who_may(case, lead, supervisor, worker, alloc.who, alloc.workers_who):
        who = WhoMayAct.of(clauses, alloc.rules).unmet(now)
        if who is not None:
            unmet.append(who)
    state = definition.states[case.state]
    if not state.open:
        unmet.append(Unmet("state", f"case {case.id} is {case.state!r}, not open", alloc.rules or ("WT-1",),
                           "Reopen the case first."))
    for slot, person in (("lead", lead), ("supervisor", supervisor), ("worker", worker)):
        if person is not None and not person.active_on(day):
            unmet.append(Unmet("holder_left", f"{person.label} left on {person.left_on} and cannot be {slot}",
                               ("WT-1",) if slot == "lead" else ("WT-3",) if slot == "supervisor"
                               else alloc.rules or ("WT-7",),
                               "Allocate someone still in post."))
    unmet += _holder(alloc.leads, lead, "lead", state.path, ctx)
    if supervisor is not None and not any(c.matches(supervisor, ctx) for c in alloc.supervisors):
        # the clauses' own rules first (a local protocol's, e.g. KEN-7), then the national rule they tighten
        rules = tuple(dict.fromkeys((*(r for c in alloc.supervisors for r in c.rules), "WT-3")))
        unmet.append(Unmet("supervisor_role",
                           f"{supervisor.label} may not supervise: only {clauses_phrase(alloc.supervisors)} may",
                           rules, f"Name {clauses_phrase(alloc.supervisors)} as supervisor."))
    if worker is not None:
        unmet += _holder(alloc.workers, worker, "worker", state.path, ctx)
    unmet += [u for r in alloc.requires if (u := r.unmet(ctx)) is not None]
    return Verdict("allocate", case.id, "allocate", case.state, None, actor.id, not unmet, cited(unmet, alloc.rules),
                   f"allocate the case to {lead.named}", state.title, actor.named)
