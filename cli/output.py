"""Text formatting for people; JSON output is the service's data as it is."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

__all__ = ["case_text", "verdict_text", "history_text", "table", "person_text", "short_time"]


def short_time(text: str | None) -> str:
    """'2026-11-25T10:00:00.000000+00:00' → '2026-11-25 10:00 UTC'."""
    return f"{text[:10]} {text[11:16]} UTC" if text else "-"


def person_text(person: dict[str, Any] | None) -> str:
    """'ana (community care worker)'."""
    if not person:
        return "-"
    roles = ", ".join(r.replace("_", " ") for r in person["roles"])
    reg = f", SWE {person['registration']}" if person.get("registration") else ""
    return f"{person['id']} ({roles}{reg})"


def case_text(case: dict[str, Any]) -> str:
    """Where a case stands, for `case show` and after every change."""
    lines = [
        f"Case {case['id']}  policy {case['policy']}  team {case['team']}  version {case['version']}",
        f"  state       {case['state']} ({case['state_title']}, {case['path']} path"
        f"{'' if case['open'] else ', closed'}) since {short_time(case['state_entered_at'])}",
        f"  lead        {person_text(case['lead'])}",
        f"  supervisor  {person_text(case['supervisor'])}",
    ]
    if case.get("worker"):
        lines.append(f"  worker      {person_text(case['worker'])}")
    for f in case["facts"]:
        with_ = f" with {', '.join(f['with'])}" if f["with"] else ""
        lines.append(f"  fact        {f['name']} by {f['by']}{with_} at {short_time(f['at'])}")
    for item in case.get("due", ()):
        when = f"{-item['working_days_left']} working days overdue" if item["overdue"] else \
            f"{item['working_days_left']} working days left"
        lines.append(f"  due         {item['deadline']} by {item['due']} ({when}; {', '.join(item['rules'])})")
    return "\n".join(lines)


def verdict_text(v: dict[str, Any]) -> str:
    """'allowed  start_s47 -> s47_enquiry' plus one line per unmet requirement."""
    target = f" -> {v['target']}" if v.get("target") else ""
    refused = any(not u.get("argument") for u in v["unmet"])
    needs = [u["argument"] for u in v["unmet"] if u.get("argument")]
    word = "allowed" if v["allowed"] else "refused" if refused else "needs"
    head = f"{word}  {v['event']}{target}" + (f"  (give {', '.join(dict.fromkeys(needs))})" if needs else "")
    lines = [head]
    for u in v["unmet"]:
        rules = f" ({', '.join(u['rules'])})" if u["rules"] else ""
        lines.append(f"    - {u['sentence']}{rules}.")
        if u["who_could"]:
            lines.append(f"      {u['who_could']}")
    return "\n".join(lines)


def history_text(entries: Iterable[dict[str, Any]]) -> str:
    """One line per audit entry, refused attempts included."""
    lines = []
    for e in entries:
        what = e["action"]
        if e["action"] == "move":
            what = f"move {e['event']}: {e['from_state']} -> {e['to_state']}"
        elif e["action"] == "refused":
            rules = e["payload"].get("verdict", {}).get("unmet", [])
            ids = sorted({r for u in rules for r in u["rules"]})
            what = f"REFUSED {e['event']} in {e['from_state']}" + (f" ({', '.join(ids)})" if ids else "")
        elif e["action"] == "fact":
            with_ = e["payload"].get("with") or []
            what = f"record {e['event']}" + (f" with {', '.join(with_)}" if with_ else "")
        elif e["action"] == "allocate":
            p = e["payload"]
            what = f"allocate lead {p.get('lead_id')}" + (f", supervisor {p['supervisor_id']}"
                                                          if p.get("supervisor_id") else "")
        elif e["action"] == "open":
            what = f"open in {e['to_state']} (team {e['payload'].get('team')})"
        reason = e["payload"].get("reason") if isinstance(e["payload"], dict) else None
        lines.append(f"{e['seq']:>4}  {short_time(e['at'])}  {e['actor']:<10} {what}"
                     + (f"  [{reason}]" if reason else ""))
    return "\n".join(lines)


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain aligned table."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header)] + [fmt.format(*map(str, r)) for r in rows]).rstrip()
