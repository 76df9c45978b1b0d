"""Text for people: titles, names and sentences. JSON output is the service's data as it is, identifiers and all."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from casework.workflow.clock import LONDON

if TYPE_CHECKING:
    from casework.workflow.caseload import HeldCase
    from casework.workflow.deadlines import DueItem
    from casework.workflow.verdict import Verdict

__all__ = ["case_text", "verdict_text", "history_text", "table", "person_text", "short_time", "day_text",
           "days_text", "due_text", "caseload_text", "staff_text"]

_PATHS = {"cin": "child in need", "cp": "child protection"}


def short_time(text: str | None) -> str:
    """'2026-11-25T10:00:00.000000+00:00' → '25 Nov 2026 10:00 GMT', '2026-06-15T08:00:00+00:00' → '15 Jun 2026
    09:00 BST': England's clock, as the practitioner read it when they acted (the store keeps UTC)."""
    if not text:
        return "-"
    moment = datetime.fromisoformat(text).astimezone(LONDON)
    return f"{day_text(moment.date(), weekday=False)} {moment:%H:%M %Z}"


def day_text(day: date | str, weekday: bool = True) -> str:
    """'2026-12-24' → 'Thu 24 Dec 2026' (without the weekday: '24 Dec 2026')."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d:%a} {d.day} {d:%b %Y}" if weekday else f"{d.day} {d:%b %Y}"


def days_text(left: int, overdue: bool) -> str:
    """'1 working day left', '3 working days overdue', 'due today'."""
    n = -left if overdue else left
    if n == 0:
        return "overdue" if overdue else "due today"
    return f"{n} working day{'' if n == 1 else 's'} {'overdue' if overdue else 'left'}"


def person_text(person: dict[str, Any] | None) -> str:
    """'Ana Lima, community care worker (ana)'; a registered social worker's number after it."""
    if not person:
        return "none named"
    roles = " and ".join(r.replace("_", " ") for r in person["roles"])
    reg = f", registered SW {person['registration'][2:]}" if person.get("registration") else ""
    name = person.get("name") or person["id"]
    return f"{name}, {roles}{reg} ({person['id']})"


def case_text(case: dict[str, Any]) -> str:
    """Where a case stands, for `case show` and after every change."""
    if case.get("state_title"):
        path = _PATHS.get(case.get("path") or "", "")
        ended = "" if case["open"] else "; the case has ended"
        where = f"{case['state_title']}{f' ({path})' if path else ''}{ended}"
    else:
        where = f"{case['state']} (its protocol version cannot be read)"
    lines = [
        f"Case {case['id']}: {where}, since {short_time(case['state_entered_at'])}",
        f"  Protocol    {case.get('protocol_version') or case['policy']}; team {case['team']}; version {case['version']}",
        f"  Lead        {person_text(case['lead'])}",
        f"  Supervisor  {person_text(case['supervisor'])}",
    ]
    if case.get("worker"):
        lines.append(f"  Worker      {person_text(case['worker'])}")
    for label, facts in (("Supervision", [f for f in case["facts"] if f.get("supervision")]),
                         ("Recorded", [f for f in case["facts"] if not f.get("supervision")])):
        for i, f in enumerate(facts):
            with_ = f", with {', '.join(f['with_names'])}" if f["with"] else ""
            note = f": {f['note']}" if f.get("note") else ""
            what = f.get("title") or f["name"].replace("_", " ")
            lines.append(f"  {label if i == 0 else '':<11} {short_time(f['at'])}  {what}, by "
                         f"{f.get('by_name') or f['by']}{with_}{note}")
    if case.get("closure"):
        c = case["closure"]
        lines.append(f"  {'Ended':<11} {short_time(c['at'])}  {c['what']}, by {c['by']}" +
                     (f". Reason: {c['reason']}" if c.get("reason") else ""))
    for i, item in enumerate(case.get("due", ())):
        rules = f" ({', '.join(item['rules'])})" if item["rules"] else ""
        lines.append(f"  {'Due' if i == 0 else '':<11} {day_text(item['due'])}, "
                     f"{days_text(item['working_days_left'], item['overdue'])}: {item['title']}{rules}")
    return "\n".join(lines)


def verdict_text(v: Verdict) -> str:
    """'You may: Hold a CIN review (stays in Child in Need plan)' plus one line per thing missing."""
    needs = [u.argument for u in v.unmet if u.argument]
    word = "May" if v.allowed else "May not" if v.refused else "May, giving " + ", ".join(dict.fromkeys(needs))
    title = v.title or v.event
    lines = [f"{word}: {title[:1].upper()}{title[1:]}  [{v.event}]"]
    for u in v.unmet:
        rules = f" ({', '.join(u.rules)})" if u.rules else ""
        lines.append(f"    - {u.sentence}{rules}.")
        if u.who_could:
            lines.append(f"      {u.who_could}")
    return "\n".join(lines)


def history_text(entries: Iterable[dict[str, Any]]) -> str:
    """One line per audit entry, refused attempts included, in the words of each entry's ``words``."""
    lines = []
    for e in entries:
        words = e.get("words") or {}
        who = words.get("actor") or e["actor"]
        what = words.get("what") or f"{e['action']} {e.get('event') or ''}".strip()
        reason = e["payload"].get("reason") if isinstance(e["payload"], dict) else None
        lines.append(f"{e['seq']:>4}  {short_time(e['at'])}  {who}: {what}" + (f". Reason: {reason}" if reason else ""))
    return "\n".join(lines)


def due_text(items: Sequence[DueItem]) -> str:
    """`casework due`: one line per item, most urgent first, and who must act beneath it."""
    if not items:
        return "Nothing is due."
    rows = [[i.case_id, day_text(i.due), days_text(i.working_days_left, i.overdue),
             i.title + (f" ({', '.join(i.rules)})" if i.rules else "")] for i in items]
    lines = table(rows, ["case", "due", "", "what"]).splitlines()
    out = [lines[0]]
    width = max(len(str(r[0])) for r in [*rows, ["case"]]) + 2
    for line, item in zip(lines[1:], items, strict=True):
        out.append(line)
        out.append(" " * width + f"who: {item.who}")
    return "\n".join(out)


def caseload_text(actor: str, held: Sequence[HeldCase]) -> str:
    """`casework mine`: each case, where it stands, what is due next and what the person may do now."""
    if not held:
        return f"{actor} holds no open cases."
    lines = []
    for h in held:
        lines.append(f"{h.id}  {h.state_title} ({h.policy}, {h.team}); you are its {' and '.join(h.places)}")
        if h.due:
            first = h.due[0]
            more = f" (and {len(h.due) - 1} more)" if len(h.due) > 1 else ""
            lines.append(f"    next due  {day_text(first.due)}, {days_text(first.working_days_left, first.overdue)}:"
                         f" {first.title}{more}")
        for v in h.may:
            needs = [u.argument for u in v.missing]
            if v.event in h.closing:  # the census reason is recorded by `case close`, which finds this move
                lines.append(f"    you may   {v.title or v.event}: casework case close {h.id} REASON --as {actor}"
                             f" (REASON: {', '.join(h.closing[v.event])})")
                continue
            give = f" {' '.join(f'{a} ...' for a in dict.fromkeys(needs))}" if needs else ""
            lines.append(f"    you may   {v.title or v.event}: casework case move {h.id} {v.event}{give} --as {actor}")
        if not h.may:
            lines.append("    you may   make no move on it now (`casework case can` says why)")
    return "\n".join(lines)


def staff_text(p: dict[str, Any]) -> str:
    """`staff show`: a person's record in words, and the cases they hold."""
    roles = " and ".join(r.replace("_", " ") for r in p["roles"])
    if p["registration"]:
        until = f", until {day_text(p['registered_until'], weekday=False)}" if p["registered_until"] else ""
        reg = f"Social Work England {p['registration']}{until}"
    else:
        reg = "not registered with Social Work England"
    qualified = "social-work-qualified today" if p["qualified_today"] else "not social-work-qualified today"
    lines = [f"{p['name']} ({p['id']}): {roles}, team {p['team'] or 'none'}", f"  Registration  {reg}; {qualified}"]
    if p["pcf_level"] or p["training"]:
        lines.append(f"  Development   PCF level {p['pcf_level'] or '-'}; training: {', '.join(p['training']) or 'none'}")
    if p["left_on"]:
        leaves = "Left" if p["left"] else "Leaves"
        lines.append(f"  {leaves:<13} {day_text(p['left_on'], weekday=False)}")
    for place, held in p["cases"].items():
        if held:
            lines.append(f"  {place.capitalize() + ' of':<13} " + ", ".join(f"{c['id']} ({c['state_title']})" for c in held))
    if not any(p["cases"].values()):
        lines.append("  Cases         none held")
    return "\n".join(lines)


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain aligned table."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header).rstrip()] + [fmt.format(*map(str, r)).rstrip() for r in rows])
