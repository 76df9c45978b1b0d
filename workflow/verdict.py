"""Verdicts: whether an action is allowed, and for each unmet requirement what and who.

A verdict is plain data so that the CLI can print it, the API can return it and the
audit log can keep it with a refused attempt.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["in_words", "Unmet", "Verdict", "cited"]

#: the rule a refusal cites when the protocol names nothing more particular: the protocol defines who may
#: act and what the process is, and every step is auditable (WT-7)
PROTOCOL_RULE = "WT-7"


@dataclass(frozen=True, slots=True)
class Unmet:
    """One requirement that does not hold: why, which rules, and who could meet it."""

    kind: str
    sentence: str
    rules: tuple[str, ...] = ()
    who_could: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    #: the option that was not given (e.g. '--reason'): a usage error, not a refusal
    argument: str = ""

    def line(self) -> str:
        """'sentence (WT-5). who could' — one line of a refusal message."""
        rules = f" ({', '.join(self.rules)})" if self.rules else ""
        who = f" {self.who_could}" if self.who_could else ""
        return f"{self.sentence}{rules}.{who}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to 'may this person do this to this case now?'."""

    action: str  # "move", "allocate", "record" or "staff"
    case_id: str
    event: str
    state: str
    target: str | None
    actor: str
    allowed: bool
    unmet: tuple[Unmet, ...] = ()

    #: in words, for people (never in to_dict, which keeps the identifiers): what was asked, e.g. 'escalate to a
    #: strategy discussion'; the state the case is in; the person acting, by name
    title: str = field(default="", compare=False)
    state_title: str = field(default="", compare=False)
    actor_label: str = field(default="", compare=False)

    def message(self) -> str:
        """Sentences a practitioner can act on: who may not do what, on which case, and each thing missing."""
        who = self.actor_label or self.actor
        what = self.title or f"'{self.event}'"
        if self.action == "staff":
            where = ""
        else:
            where = f" on case {self.case_id}" + (f" ({self.state_title})" if self.state_title else
                                                  f" (state {self.state})" if self.state else "")
        if self.allowed:
            return f"{who} may {what}{where} now."
        lines = "\n  - ".join(u.line() for u in self.unmet)
        return f"{who} may not {what}{where}:\n  - {lines}"

    @property
    def missing(self) -> tuple[Unmet, ...]:
        """The arguments the action needs and was not given (reason, note, people taking part, a choice)."""
        return tuple(u for u in self.unmet if u.argument)

    @property
    def refused(self) -> bool:
        """Refused by the protocol itself, whatever arguments are given."""
        return any(not u.argument for u in self.unmet)

    @property
    def rules(self) -> tuple[str, ...]:
        """Every rule ID behind the refusal, in order of first mention."""
        seen: dict[str, None] = {}
        for u in self.unmet:
            seen.update(dict.fromkeys(u.rules))
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form (documented in the README)."""
        data = {f: getattr(self, f) for f in _JSON_FIELDS}
        data["unmet"] = [
            {"kind": u.kind, "params": u.params, "sentence": u.sentence, "rules": list(u.rules),
             "who_could": u.who_could, "origin": u.origin, "argument": u.argument or None}
            for u in self.unmet
        ]
        return data


#: the fields of a verdict's JSON form (its words for people are left out: JSON keeps identifiers)
_JSON_FIELDS = ("action", "case_id", "event", "state", "target", "actor", "allowed", "unmet")


def cited(unmet: "list[Unmet] | tuple[Unmet, ...]", fallback: tuple[str, ...] = ()) -> tuple[Unmet, ...]:
    """Every unmet item with at least one rule ID: its own, else the action's (*fallback*), else WT-7."""
    rules = fallback or (PROTOCOL_RULE,)
    return tuple(u if u.rules else replace(u, rules=rules) for u in unmet)


def in_words(title: str) -> str:
    """A title as the middle of a sentence: 'Escalate to a strategy discussion' → 'escalate to a strategy
    discussion' (an acronym such as 'ICPC' keeps its capitals)."""
    first = title.split(" ", 1)[0]
    return title if len(first) > 1 and first.isupper() else title[:1].lower() + title[1:]
