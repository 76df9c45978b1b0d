"""Staff-list verdicts: may this person add someone, or change their roles, registration, team or
login, or record that they left?

The people a guard reads are only as trustworthy as whoever may change them, so a change
to the staff list is judged like a case move: by the ``staff:`` section of the store's
staff protocol, with the same verdicts, and written to the staff chain. Nobody changes
their own roles, registration or login.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from .clock import day_of
from .definition import Definition
from ..errors import BadInput
from .people import Case, Staff
from .requirements import Context
from .requirements.actor import WhoMayAct
from .verdict import Unmet, Verdict

__all__ = ["registration_number", "changes_between", "explain_staff_change", "explain_team_declaration",
           "SELF_CHANGES"]

#: a Social Work England registration number: 'SW' and digits
_SWE = re.compile(r"^SW[0-9]{1,8}$")
#: what nobody may change of themselves: it would let them widen what they may do (a team brings the powers of
#: its managers over its cases; a later leaving day, more days to act)
SELF_CHANGES = ("roles", "registration", "login", "team", "leave")
#: each kind of change to the staff list, as a sentence names it
_KIND_WORDS = {"roles": "roles", "registration": "registration", "team": "team", "login": "database login",
               "leave": "leaving day"}


def registration_number(value: str | None) -> str | None:
    """A Social Work England number as kept: 'SW' then digits (spaces and lower case forgiven)."""
    if value is None:
        return None
    text = re.sub(r"\s+", "", value).upper()
    if not _SWE.match(text):
        raise BadInput(f"{value!r} is not a Social Work England registration number: those are 'SW' followed by "
                       f"digits, e.g. SW123456.")
    return text


def changes_between(before: Staff | None, after: Staff) -> tuple[str, ...]:
    """The kinds of change (STAFF_CHANGES) that turn *before* into *after*."""
    if before is None:
        return ("add",)
    kinds = []
    if (before.roles, before.pcf_level, before.training, before.name) != \
            (after.roles, after.pcf_level, after.training, after.name):
        kinds.append("roles")
    if (before.registration, before.registered_until) != (after.registration, after.registered_until):
        kinds.append("registration")
    if before.team != after.team:
        kinds.append("team")
    if before.login != after.login:
        kinds.append("login")
    if before.left_on != after.left_on:
        kinds.append("leave")
    return tuple(kinds)


def explain_staff_change(definition: Definition, actor: Staff, before: Staff | None, after: Staff,
                         at: datetime) -> Verdict:
    """May *actor* turn *before* (None: nobody yet) into *after* on the staff list now?"""
    kinds = changes_between(before, after)
    if not kinds:
        raise BadInput(f"Nothing to change: {after.id} already is as given.")
    day = day_of(at)
    if before is not None and before.left_on is not None and before.left_on < day:
        raise BadInput(f"{after.id} left on {before.left_on}: a leaver's record is closed. Someone who returns is "
                       f"added again under a new id.")
    nobody = Case(f"staff:{after.id}", definition.name, after.team or "", "")
    ctx = Context(nobody, actor, at, day_of(at), definition)
    unmet: list[Unmet] = []
    for kind in kinds:
        spec = definition.staff.change(kind)
        who = WhoMayAct.of(spec.who, spec.rules, spec.origin).unmet(ctx)
        if who is not None:
            unmet.append(replace(who, kind=f"staff_{kind}", sentence=f"{who.sentence} ({kind}): {spec.says.rstrip('.')}"))
        if kind in SELF_CHANGES and actor.id == after.id and before is not None:
            unmet.append(Unmet("staff_self", f"{actor.id} cannot change their own {kind}", spec.rules,
                               f"Ask {spec.who_text()}.", {"change": kind}, spec.origin))
    what = f"add {after.named}, staff id {after.id}, to the staff list" if kinds == ("add",) else \
        f"change the {' and '.join(_KIND_WORDS.get(k, k) for k in kinds)} of {after.name or after.id} ({after.id})"
    return Verdict("staff", after.id, "+".join(kinds), "", None, actor.id, not unmet, tuple(unmet), what, "",
                   actor.named)


def explain_team_declaration(definition: Definition, actor: Staff, team: str, at: datetime) -> Verdict:
    """May *actor* declare *team*? Whoever may move people between teams (the ``team`` change) may."""
    spec = definition.staff.change("team")
    ctx = Context(Case(f"team:{team}", definition.name, team, ""), actor, at, day_of(at), definition)
    who = WhoMayAct.of(spec.who, spec.rules, spec.origin).unmet(ctx)
    unmet = () if who is None else (replace(who, kind="staff_team", sentence=f"{who.sentence} (declare a team)"),)
    return Verdict("staff", f"team:{team}", "declare_team", "", None, actor.id, not unmet, unmet,
                   f"declare the team {team}", "", actor.named)
