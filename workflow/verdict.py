"""Verdicts: whether an action is allowed, and for each unmet requirement what and who.

A verdict is plain data so that the CLI can print it, the API can return it and the
audit log can keep it with a refused attempt.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["Unmet", "Verdict", "cited"]

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

    def message(self) -> str:
        """A sentence a practitioner can act on."""
        subject = f"staff member {self.case_id}" if self.action == "staff" else f"case {self.case_id}"
        if self.allowed:
            return f"{self.actor} may '{self.event}' {subject} now."
        lines = "\n  - ".join(u.line() for u in self.unmet)
        where = "" if self.action == "staff" else f" (state {self.state})"
        return f"Cannot '{self.event}' {subject}{where} as {self.actor}:\n  - {lines}"

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
        data = asdict(self)
        data["unmet"] = [
            {"kind": u.kind, "params": u.params, "sentence": u.sentence, "rules": list(u.rules),
             "who_could": u.who_could, "origin": u.origin, "argument": u.argument or None}
            for u in self.unmet
        ]
        return data


def cited(unmet: "list[Unmet] | tuple[Unmet, ...]", fallback: tuple[str, ...] = ()) -> tuple[Unmet, ...]:
    """Every unmet item with at least one rule ID: its own, else the action's (*fallback*), else WT-7."""
    rules = fallback or (PROTOCOL_RULE,)
    return tuple(u if u.rules else replace(u, rules=rules) for u in unmet)
