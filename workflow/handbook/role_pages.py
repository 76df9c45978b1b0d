"""A handbook page per role: 'As a community care worker in Torbay you may …, you may not …'.

Every line comes from the engine's verdicts on example cases (:mod:`.probe`) and the definition's own
sentences, so a page cannot say a role may do what the engine refuses, or the other way round: what they
may do and from where, what stops them and which rule says so, what must hold before a case comes to
them, the deadlines of their supervision and of the cases they hold, and what happens when need escalates.
"""
from __future__ import annotations

from ..definition import STAFF_CHANGES, Definition, HolderPolicy
from ..requirements import Requirement, WhoMayAct, clauses_phrase
from ..requirements.wording import opening
from ..roles import ROLES, role_label, roles_phrase
from .model import Clause, Holding, Link, Permission, RolePage, Section
from .probe import STANDING_WORDS, Outcome, Probe
from .sections import STAFF_TITLES, Reader, anchor, deadline_section, holder_title, link

__all__ = ["role_pages", "role_file"]

_SLOTS = {"lead": "lead practitioner", "worker": "worker beside the lead", "supervisor": "supervisor"}


def role_file(role: str) -> str:
    """The page of *role*: ``role-community_care_worker.html``."""
    return f"role-{role}.html"


class _RolePage:
    """Builds one role's page from a probe of the engine and the handbook's reader of the definition."""

    def __init__(self, r: Reader, role: str):
        self.r, self.d, self.role = r, r.d, role
        self.probe = Probe(r.d, role)
        self.label = role_label(role)
        self.mine = {n for n, dl in r.d.deadlines.items() if role in dl.held_by}
        self.open_states = tuple(s for s, st in r.d.states.items() if st.open)

    def states(self, names: tuple[str, ...]) -> tuple[Link, ...]:
        return tuple(link("state", s, self.d.states[s].title or s) for s in names)

    def clauses(self, requirements: tuple[Requirement, ...]) -> tuple[Clause, ...]:
        return tuple(self.r.clause_for(q) for q in requirements)

    def permission(self, what: Link, kind: str, outcome: Outcome, who: WhoMayAct, states: tuple[str, ...] = (),
                   also: tuple[Requirement, ...] = ()) -> Permission:
        """*outcome* as a page shows it; *also*: conditions every holder meets that concern this role's deadlines."""
        if outcome.allowed:  # whoever they are on the case, or only from where they stand on it
            standing = () if "none" in outcome.standings else tuple(STANDING_WORDS[s] for s in outcome.standings)
            return Permission(what, kind, True, standing, self.states(outcome.states),
                              self.clauses((*outcome.because, *also)))
        because = self.clauses(outcome.because)
        if outcome.not_who:
            because = (Clause(who.describe(self.d), who.all_rules()), *self.elsewhere(who, states), *because)
        others = tuple(c for c in who.clauses if c.relation not in outcome.blocked_in)
        return Permission(what, kind, False, because=because, instead=clauses_phrase(others or who.clauses))

    def elsewhere(self, who: WhoMayAct, states: tuple[str, ...]) -> tuple[Clause, ...]:
        """'You lead a case only at “Child in Need plan”': why a place among those who may act is not theirs
        in *states*, when they hold it in others."""
        found = []
        for slot, policies in (("lead", self.d.allocation.leads), ("worker", self.d.allocation.workers)):
            held = self.probe.states_held(slot)
            if held and any(c.relation == slot for c in who.clauses) and not set(held) & set(states):
                rules = tuple(dict.fromkeys(r for p in policies if self.role in p.roles for r in p.rules))
                found.append(Clause(f"A {self.label} holds a case as its {_SLOTS[slot]} only at "
                                    f"{' or '.join(self.d.states[s].title or s for s in held)}", rules))
        return tuple(found)

    def moves(self) -> list[Permission]:
        found = []
        for name, ev in self.d.events.items():
            also = tuple(q for q in ev.requires if set(q.references().get("deadlines", ())) & self.mine)
            found.append(self.permission(link("event", name, ev.title or name), "move", self.probe.event(name),
                                         WhoMayAct.of(ev.who, ev.rules), ev.sources, also))
        return found

    def records(self) -> list[Permission]:
        return [self.permission(link("fact", name, opening(f.title or name)), "record", self.probe.fact(name),
                                WhoMayAct.of(f.who, f.rules), self.open_states)
                for name, f in self.d.facts.items()]

    def allocating(self) -> list[Permission]:
        a = self.d.allocation
        found = [self.permission(Link("Allocating a case", f"allocation.html#{anchor('allocation', 'allocate')}"),
                                 "allocate", self.probe.allocate(a.who), WhoMayAct.of(a.who, a.rules),
                                 self.open_states)]
        if a.workers and a.workers_who:
            found.append(self.permission(
                Link("Changing only the worker", f"allocation.html#{anchor('allocation', 'workers_who')}"),
                "allocate", self.probe.allocate(a.workers_who), WhoMayAct.of(a.workers_who, a.rules),
                self.open_states))
        return found

    def holding(self) -> tuple[Holding, ...]:
        a = self.d.allocation
        found = []
        for slot, policies in (("lead", a.leads), ("worker", a.workers)):
            states = self.probe.states_held(slot)
            for i, policy in enumerate(policies):
                if self.role in policy.roles and states:
                    found.append(self._holding(slot, policy, i, states))
        supervising = self.probe.states_held("supervisor")
        if supervising:
            found.append(Holding("supervisor", self.states(supervising),
                                 f"The supervisor is {clauses_phrase(a.supervisors)}.",
                                 link=Link("Who may supervise", f"allocation.html#{anchor('allocation', 'supervisors')}"),
                                 rules=tuple(dict.fromkeys(r for c in a.supervisors for r in c.rules))))
        return tuple(found)

    def _holding(self, slot: str, policy: HolderPolicy, i: int, states: tuple[str, ...]) -> Holding:
        paths = {self.d.states[s].path for s in states}
        return Holding(slot, self.states(tuple(s for s in states if self.d.states[s].path in paths)), policy.says,
                       self.clauses((*policy.requires, *self.d.allocation.requires)), self.clauses(policy.keeps),
                       link(slot, str(i), holder_title(policy, slot)), policy.rules)

    def not_holding(self, holding: tuple[Holding, ...]) -> Clause | None:
        if any(h.slot in ("lead", "worker") for h in holding):
            return None
        leads = sorted({r for p in self.d.allocation.leads for r in p.roles}, key=ROLES.index)
        rules = tuple(dict.fromkeys(("WT-2", *(r for p in self.d.allocation.leads for r in p.rules))))
        return Clause(f"Under this protocol a {self.label} does not hold cases as lead practitioner or worker: the "
                      f"lead practitioner is a {roles_phrase(leads)}.", rules)

    def deadline_sections(self, holding: tuple[Holding, ...]) -> tuple[tuple[Section, ...], tuple[Section, ...]]:
        """Their supervision (deadlines only while someone of their role holds the case), and the deadlines they
        must act on as holder of a case."""
        slots = {h.slot for h in holding}
        held = {s for slot in slots for s in self.probe.states_held(slot)}
        supervision, theirs = [], []
        for name, dl in self.d.deadlines.items():
            if name in self.mine:
                supervision.append(deadline_section(self.r, name, dl))
            elif not dl.held_by and set(dl.while_in) & held and any(c.relation in slots for c in dl.who):
                theirs.append(deadline_section(self.r, name, dl))
        return tuple(supervision), tuple(theirs)

    def escalation(self, moves: list[Permission]) -> tuple[Permission, ...]:
        """The moves that take a case from Child in Need into child protection."""
        into = {anchor("event", n) for n, ev in self.d.events.items()
                if self.d.states[ev.to].path == "cp" and any(self.d.states[s].path != "cp" for s in ev.sources)}
        return tuple(p for p in moves if p.what.href.split("#")[1] in into)

    def page(self) -> RolePage | None:
        holding = self.holding()
        moves, records, allocating = self.moves(), self.records(), self.allocating()
        everything = [*moves, *records, *allocating]
        staff = tuple(link("staff", kind, STAFF_TITLES[kind]) for kind in STAFF_CHANGES
                      if self.probe.staff_change(self.d.staff.change(kind).who))
        if not holding and not staff and not any(p.allowed for p in everything):
            return None
        supervision, deadlines = self.deadline_sections(holding)
        keeps = tuple(c for h in holding for c in h.keeps)
        title = self.d.title or self.d.name
        intro = (f"As a {self.label} under {title}: what you may do and what you may not, what must happen "
                 f"before a case comes to you, your supervision, and what happens when need escalates. Every line "
                 f"is the engine's own verdict on an example case, so this page and the engine cannot disagree.")
        return RolePage(self.role, self.label, role_file(self.role), self.label[:1].upper() + self.label[1:], intro,
                        holding, self.not_holding(holding), clauses_phrase(self.d.allocation.who),
                        tuple(p for p in everything if p.allowed), tuple(p for p in everything if not p.allowed),
                        supervision, deadlines, self.escalation(moves), keeps, staff)


def role_pages(d: Definition) -> tuple[tuple[RolePage, ...], tuple[str, ...]]:
    """A page for each role *d* gives a part (holding cases, moves, records, allocation or the staff list), and
    the labels of the roles it gives none."""
    r = Reader(d)
    pages, without = [], []
    for role in ROLES:
        page = _RolePage(r, role).page()
        if page is None:
            without.append(role_label(role))
        else:
            pages.append(page)
    return tuple(pages), tuple(without)
