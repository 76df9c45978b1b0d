"""The handbook's sections, gathered from a loaded definition in plain English.

One builder per page: states, events, facts, allocation, deadlines and the staff list. Each condition
keeps its rule IDs and says whether the local protocol added it (its ``origin``).
"""
from __future__ import annotations

from typing import Callable

from ..deadlines import DeadlineDef, Marker
from ..definition import STAFF_CHANGES, Definition, HolderPolicy, is_local
from ..requirements import ActorClause, Requirement
from ..requirements.wording import fact_named
from ..roles import roles_phrase
from ..staffing import SELF_CHANGES
from .model import Clause, Group, Link, Page, Section

__all__ = ["section_pages", "anchor", "link", "Reader", "deadline_section", "holder_title", "STAFF_TITLES"]

_PATHS = {"cin": "Child in Need (section 17)", "cp": "Child protection (registered social workers only)",
          "none": "Outside both paths"}
_FILES = {"state": "states.html", "event": "events.html", "fact": "facts.html", "deadline": "deadlines.html",
          "lead": "allocation.html", "worker": "allocation.html", "allocation": "allocation.html",
          "staff": "staff.html"}
STAFF_TITLES = {"add": "Adding someone to the staff list", "roles": "Changing roles, PCF level or training",
                 "registration": "Recording, renewing or ending a registration", "team": "Moving someone between teams",
                 "login": "Mapping a database login to a person", "leave": "Recording that someone has left"}


def anchor(kind: str, name: str) -> str:
    """The id of a section: ``event-close``, ``rule-WT-5``."""
    return f"{kind}-{name}"


def link(kind: str, name: str, text: str | None = None) -> Link:
    """A link to the section of *kind* called *name* (its file and fragment)."""
    return Link(text or name, f"{_FILES[kind]}#{anchor(kind, name)}")


class Reader:
    """Reads one definition for the handbook: what is local, and where each name is explained."""

    def __init__(self, d: Definition):
        self.d = d
        self.base = d.lineage[0]

    def is_local(self, origin: str) -> bool:
        """Written by the local protocol rather than inherited from the baseline."""
        return is_local(origin, self.base)

    def clause_for_actor(self, c: ActorClause) -> Clause:
        """'a registered team manager of the case's team', with its rules."""
        return Clause(c.describe(), c.rules, self.is_local(c.origin))

    def clause_for(self, r: Requirement) -> Clause:
        """The requirement's sentence, how it is checked if worded otherwise, and links to what it names."""
        plain = r.describe(self.d)
        detail = plain if r.says and plain != r.says else ""
        refs = r.references()  # checked at load time: every name exists
        see = [link("fact", f, self.d.facts[f].title or f) for f in refs.get("facts", ())]
        see += [link("deadline", n, self.d.deadlines[n].title) for n in refs.get("deadlines", ())]
        see += [link("state", s, self.d.states[s].title or s) for s in refs.get("states", ())]
        return Clause(r.text(self.d), r.all_rules(), self.is_local(r.origin), detail, tuple(see))

    def marker_link(self, m: Marker) -> Link | None:
        """Where the thing that starts or meets a deadline is explained (None for a fixed date)."""
        if m.entered:
            return link("state", m.entered, f"entering {self.d.states[m.entered].title or m.entered}")
        if m.event == "allocate":
            return Link("allocation of the case", f"allocation.html#{anchor('allocation', 'allocate')}")
        if m.event:
            return link("event", m.event, f"the move '{self.d.events[m.event].title or m.event}'")
        if m.fact:
            return link("fact", m.fact, f"recording {fact_named(m.fact, self.d)}")
        return None

    def deadlines_where(self, test: Callable[[DeadlineDef], bool]) -> tuple[Link, ...]:
        return tuple(link("deadline", n, dl.title) for n, dl in self.d.deadlines.items() if test(dl))

    def deadline_links(self, label_start: str, label_meet: str,
                       marker: Callable[[Marker], bool]) -> tuple[tuple[str, tuple[Link, ...]], ...]:
        """The deadlines whose clock *marker* starts, and those it meets, as labelled link lists."""
        starts = self.deadlines_where(lambda dl: marker(dl.start))
        meets = self.deadlines_where(lambda dl: any(marker(m) for m in dl.met_by))
        return tuple((label, links) for label, links in ((label_start, starts), (label_meet, meets)) if links)


def _state_sections(r: Reader) -> tuple[Section, ...]:
    d = r.d
    sections = []
    for name, s in d.states.items():
        notes = [_PATHS[s.path] if s.open else "The case is no longer open here"]
        if s.initial:
            notes.append("Every case starts here")
        into = tuple(link("event", e, ev.title or e) for e, ev in d.events.items() if ev.to == name)
        out = tuple(link("event", e, ev.title or e) for e, ev in d.events_from(name))
        running = r.deadlines_where(_runs_in(name))
        starting = r.deadlines_where(_starts_on_entering(name))
        links = (("Reached by", into), ("Left by", out), ("Deadlines that run while the case is here", running),
                 ("Entering it starts", starting))
        sections.append(Section(anchor("state", name), name, s.title or name, s.description, r.is_local(s.origin),
                                tuple(notes), links=tuple((label, ls) for label, ls in links if ls),
                                rules=s.rules))
    return tuple(sections)


def _runs_in(state: str) -> Callable[[DeadlineDef], bool]:
    return lambda dl: state in dl.while_in


def _starts_on_entering(state: str) -> Callable[[DeadlineDef], bool]:
    return lambda dl: dl.start.entered == state


def _marks(kind: str, name: str) -> Callable[[Marker], bool]:
    """Whether a marker is this one: entering a state, making a move or recording a fact called *name*."""
    return lambda m: bool(getattr(m, kind) == name)


def _event_sections(r: Reader) -> tuple[Section, ...]:
    d = r.d
    sections = []
    for name, ev in d.events.items():
        moves = tuple(link("state", s, d.states[s].title or s) for s in ev.sources)
        to = d.states[ev.to]
        notes = [f"Into child protection: {_PATHS['cp']}"] if to.path == "cp" else []
        links = (("From", moves), ("To", (link("state", ev.to, to.title or ev.to),)),
                 *r.deadline_links("Starts the clock for", "Meets", _marks("event", name)),
                 *r.deadline_links("Entering its target state starts", "Entering its target state meets",
                                   _marks("entered", ev.to)))
        sections.append(Section(anchor("event", name), name, ev.title or name, ev.description,
                                r.is_local(ev.origin), tuple(notes),
                                who=tuple(r.clause_for_actor(c) for c in ev.who),
                                requires=tuple(r.clause_for(q) for q in ev.requires),
                                links=links, rules=ev.rules))
    return tuple(sections)


def _fact_sections(r: Reader) -> tuple[Section, ...]:
    d = r.d
    needed_by: dict[str, list[Link]] = {}
    for name, ev in d.events.items():
        for req in ev.requires:
            for fact in req.references().get("facts", ()):
                needed_by.setdefault(fact, []).append(link("event", name, ev.title or name))
    for other, spec in d.facts.items():
        for req in spec.requires:
            for fact in req.references().get("facts", ()):
                needed_by.setdefault(fact, []).append(link("fact", other, spec.title or other))
    for kind, policies in (("lead", d.allocation.leads), ("worker", d.allocation.workers)):
        for i, policy in enumerate(policies):
            for req in policy.requires:
                for fact in req.references().get("facts", ()):
                    needed_by.setdefault(fact, []).append(link(kind, str(i), holder_title(policy, kind)))
    sections = []
    for name, f in d.facts.items():
        notes = []
        if f.note_required:
            notes.append("A note must be given with it: the rationale, recorded on the file")
        if f.choices:
            notes.append("The note is one of: " + ", ".join(f.choices))
        if f.with_qualified:
            notes.append("Someone recorded as taking part must be social-work-qualified")
        for clause in f.with_:
            notes.append(f"Recorded with {clause.describe()}, named as taking part")
        links = (("Needed before", tuple(dict.fromkeys(needed_by.get(name, ())))),
                 *r.deadline_links("Starts the clock for", "Meets", _marks("fact", name)))
        sections.append(Section(anchor("fact", name), name, f.title or name, f.description, r.is_local(f.origin),
                                tuple(notes), who_label="Who may record it",
                                who=tuple(r.clause_for_actor(c) for c in f.who),
                                requires=tuple(r.clause_for(q) for q in f.requires),
                                links=tuple((label, ls) for label, ls in links if ls), rules=f.rules))
    return tuple(sections)


def holder_title(policy: HolderPolicy, kind: str) -> str:
    slot = "Lead practitioner" if kind == "lead" else "Worker beside the lead"
    return f"{slot}: {roles_phrase(policy.roles)}"


def _holder_section(r: Reader, policy: HolderPolicy, kind: str, i: int) -> Section:
    paths = " and ".join(_PATHS[p] for p in policy.paths)
    keeps = tuple(f"While they hold it, this must keep holding (else the case is due for reallocation or review): "
                  f"{q.text(r.d)}" for q in policy.keeps)
    return Section(anchor(kind, str(i)), f"{kind} {i + 1}", holder_title(policy, kind), policy.says,
                   r.is_local(policy.origin), (f"On: {paths}", *keeps),
                   requires=tuple(r.clause_for(q) for q in policy.requires), rules=policy.rules)


def _allocation_groups(r: Reader) -> tuple[Group, ...]:
    a = r.d.allocation
    allocate = Section(anchor("allocation", "allocate"), "allocate", "Allocating a case",
                       "Naming or changing the lead practitioner, the supervisor and the worker.",
                       who_label="Who may allocate", who=tuple(r.clause_for_actor(c) for c in a.who),
                       requires=tuple(r.clause_for(q) for q in a.requires),
                       links=r.deadline_links("Starts the clock for", "Meets", lambda m: m.event == "allocate"),
                       rules=a.rules)
    supervisors = Section(anchor("allocation", "supervisors"), "supervisors", "Supervisors",
                          "Who may be named as the case's supervisor.", who_label="Who may supervise",
                          who=tuple(r.clause_for_actor(c) for c in a.supervisors))
    groups = [Group("Allocating a case", (allocate,)),
              Group("Who may lead", tuple(_holder_section(r, p, "lead", i) for i, p in enumerate(a.leads)),
                    "A lead practitioner holds the case; each policy says who, on which path, and what must "
                    "hold before the case passes to them."),
              Group("Who may supervise", (supervisors,))]
    if a.workers:
        workers = tuple(_holder_section(r, p, "worker", i) for i, p in enumerate(a.workers))
        if a.workers_who:
            workers += (Section(anchor("allocation", "workers_who"), "workers_who", "Changing only the worker",
                                "Adding, changing or removing the worker while the lead and supervisor stay.",
                                who_label="Who may do it", who=tuple(r.clause_for_actor(c) for c in a.workers_who)),)
        groups.append(Group("Workers beside the lead", workers,
                            "A worker does the work of the case while the lead keeps it."))
    return tuple(groups)


def deadline_section(r: Reader, name: str, dl: DeadlineDef) -> Section:
    d = r.d
    notes = [f"Due within {dl.within.text()}"]
    if dl.repeat:
        notes.append(f"Then again at least every {dl.repeat.text()}")
    if dl.start.day is not None:
        notes.append(f"Counted from {dl.start.day.isoformat()}")
    if dl.held_by:
        notes.append(f"Only while the case is held by a {roles_phrase(dl.held_by)}")
    if dl.within.unit == "working_days":
        notes.append("Working days exclude weekends, England bank holidays and local closure days")
    starts = tuple(x for x in (r.marker_link(dl.start),) if x)
    meets = tuple(x for x in (r.marker_link(m) for m in dl.met_by) if x)
    links = (("Runs while the case is in", tuple(link("state", s, d.states[s].title or s) for s in dl.while_in)),
             ("The clock starts on", starts), ("Met by", meets))
    return Section(anchor("deadline", name), name, dl.title, dl.text(), r.is_local(dl.origin), tuple(notes),
                   who_label="Who must act",
                   who=tuple(r.clause_for_actor(c) for c in dl.who) or (Clause("the lead practitioner"),),
                   links=tuple((label, ls) for label, ls in links if ls), rules=dl.rules)


def _staff_sections(r: Reader) -> tuple[Section, ...]:
    sections = []
    for kind in STAFF_CHANGES:
        change = r.d.staff.change(kind)
        notes = ("Nobody may make this change for themselves",) if kind in SELF_CHANGES else ()
        sections.append(Section(anchor("staff", kind), kind, STAFF_TITLES[kind], change.says,
                                r.is_local(change.origin), notes,
                                who=tuple(r.clause_for_actor(c) for c in change.who), rules=change.rules))
    return tuple(sections)


def section_pages(d: Definition) -> tuple[Page, ...]:
    """The section pages of *d*'s handbook, in reading order."""
    r = Reader(d)
    return (
        Page("states.html", "States", "Each stage a case can be in, how it gets there and how it leaves.",
             (Group("States", _state_sections(r)),)),
        Page("events.html", "Events", "Each move of a case: who may make it and what must happen first.",
             (Group("Events", _event_sections(r)),)),
        Page("facts.html", "Facts", "What can be recorded on a case, and who may record it.",
             (Group("Facts", _fact_sections(r)),)),
        Page("allocation.html", "Allocation", "Who may allocate a case, who may hold it and under what conditions.",
             _allocation_groups(r)),
        Page("deadlines.html", "Deadlines", "Timescales and cadences the engine counts for every open case.",
             (Group("Deadlines", tuple(deadline_section(r, n, dl) for n, dl in d.deadlines.items())),)),
        Page("staff.html", "Staff list", "Who may add people and change what the guards read about them: roles, "
             "registration, team, login, and the day they left. Each change is judged and audited like a move.",
             (Group("Changes to the staff list", _staff_sections(r)),)),
    )
