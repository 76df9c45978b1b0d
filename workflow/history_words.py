"""A case's audit entries in words: what each did, with the titles of its moves, facts and states and the
names of the people in it, for `case history` and the demo. The entries themselves keep the identifiers."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from .verdict import in_words

if TYPE_CHECKING:  # pragma: no cover
    from .definition import Definition

__all__ = ["entry_words", "people_named"]

_SLOTS = (("lead_id", "lead"), ("supervisor_id", "supervisor"), ("worker_id", "worker"))


def people_named(entry: dict[str, Any]) -> Iterable[str]:
    """The staff ids an entry names: who wrote it, the holders an allocation names, who took part in a fact."""
    p = entry["payload"] if isinstance(entry["payload"], dict) else {}
    yield entry["actor"]
    for slot, _ in _SLOTS:
        if isinstance(p.get(slot), str):
            yield p[slot]
    for other in p.get("with") or ():
        if isinstance(other, str):
            yield other


def _state(d: "Definition | None", name: str | None) -> str:
    spec = d.states.get(name) if d is not None and name else None
    return spec.title if spec is not None and spec.title else (name or "-")


#: what casework itself does to a case, besides the protocol's moves
_ACTIONS = {"allocate": "allocate the case", "transfer": "transfer the case to another team",
            "migrate": "move the case onto another protocol version"}


def _event(d: "Definition | None", name: str | None) -> str:
    spec = d.events.get(name) if d is not None and name else None
    if spec is not None and spec.title:
        return in_words(spec.title)
    return _ACTIONS.get(name or "", f"'{name}'")


def _fact(d: "Definition | None", name: str | None) -> str:
    spec = d.facts.get(name) if d is not None and name else None
    return spec.title if spec is not None and spec.title else (name or "").replace("_", " ")


def entry_words(entry: dict[str, Any], definition: "Definition | None", names: dict[str, str]) -> dict[str, str]:
    """{'actor': their name, 'what': a sentence} for one entry (the case's current version supplies the titles)."""
    p = entry["payload"] if isinstance(entry["payload"], dict) else {}
    action, d = entry["action"], definition

    def who(staff_id: Any) -> str:
        return names.get(staff_id) or str(staff_id)

    if action == "open":
        what = f"opened the case in {_state(d, entry['to_state'])}, team {p.get('team')}"
    elif action == "move":
        title = _event(d, entry["event"])
        title = title[:1].upper() + title[1:]
        if entry["from_state"] != entry["to_state"]:
            what = f"moved the case from {_state(d, entry['from_state'])} to {_state(d, entry['to_state'])}: {title}"
        else:
            what = f"{title} (the case stays in {_state(d, entry['to_state'])})"
    elif action == "fact":
        with_ = p.get("with") or []
        fact = _fact(d, entry["event"])
        what = f"recorded {'that ' if fact.startswith('the ') else ''}{fact}"
        if with_:
            what += f", with {', '.join(who(w) for w in with_)}"
        if p.get("note"):
            what += f': "{p["note"]}"'
    elif action == "allocate":
        held = [f"{place} {who(p[slot])}" for slot, place in _SLOTS if p.get(slot)]
        what = "allocated the case: " + ", ".join(held)
    elif action == "transfer":
        what = f"transferred the case from {p.get('from_team')} to {p.get('to_team')}"
    elif action == "migrate":
        what = f"moved the case onto protocol version {str(p.get('to', ''))[:12]}"
    elif action == "refused":
        unmet = p.get("verdict", {}).get("unmet", []) if isinstance(p.get("verdict"), dict) else []
        rules = sorted({r for u in unmet for r in u.get("rules", [])})
        tried = _fact(d, entry["event"]) if d is not None and entry["event"] in d.facts else _event(d, entry["event"])
        what = f"was refused: {tried}, in {_state(d, entry['from_state'])}" + \
            (f" ({', '.join(rules)})" if rules else "")
    else:
        what = f"{action} {entry.get('event') or ''}".strip()
    return {"actor": who(entry["actor"]), "what": what}
