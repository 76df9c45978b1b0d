"""One exception hierarchy for casework, each class mapped to one CLI exit code.

A refusal is data before it is an exception: :class:`Refused` carries the verdict that
explains it. Driver errors never escape ``store/``; they arrive here translated.
"""
from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .workflow.verdict import Verdict

__all__ = [
    "CaseworkError", "BadInput", "InvalidDefinition", "DefinitionProblem", "UnknownName",
    "CaseNotFound", "StaffNotFound", "UnknownPolicy", "UnknownEvent", "UnknownFact",
    "StoreNotReady", "Refused", "TransitionRefused", "AllocationRefused", "RecordRefused",
    "Conflict", "ConcurrentUpdate", "LostRace", "AlreadyExists", "DiagramError", "IdentityRefused",
    "StaffChangeRefused", "TransferRefused", "AuditBroken", "MissingArguments",
]

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_CONFLICT = 3
#: casework itself failed (a bug): never mistaken for a refusal (1) or bad input (2)
EXIT_INTERNAL = 70


class CaseworkError(Exception):
    """Root of every error casework raises on purpose."""

    exit_code = EXIT_BAD_INPUT


class BadInput(CaseworkError):
    """The request cannot be understood: unknown names, malformed values, bad files."""


@dataclass(frozen=True)
class DefinitionProblem:
    """One thing wrong in a definition file: where it is and how to fix it."""

    file: str
    path: str
    problem: str
    fix: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: at {self.path or '<top>'}: {self.problem}"
        end = "" if text.endswith(("?", ".", "!")) else "."
        return f"{text}{end} Fix: {self.fix}" if self.fix else text


class InvalidDefinition(BadInput):
    """A definition file is malformed or breaks a national invariant; nothing was loaded."""

    def __init__(self, problems: Sequence[DefinitionProblem], stage: str = "schema"):
        self.problems = tuple(problems)
        #: "read" (file or YAML), "schema" (shape and names) or "check" (whole-protocol findings)
        self.stage = stage
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownName(BadInput):
    """A name that is not known, with the closest known names as a suggestion."""

    what = "name"

    def __init__(self, name: str, known: Iterable[str] = (), context: str = ""):
        self.name = name
        self.suggestions = tuple(get_close_matches(name, list(known), n=3, cutoff=0.6))
        hint = f" Did you mean {' or '.join(repr(s) for s in self.suggestions)}?" if self.suggestions else ""
        ctx = f" {context}" if context else ""
        super().__init__(f"Unknown {self.what} {name!r}{ctx}.{hint}")


class CaseNotFound(UnknownName):
    """No such case. Unlike other unknown names it suggests nothing: a near miss is another child's case id,
    and naming it would disclose that child's record to someone who may have no business with it."""

    what = "case"

    def __init__(self, name: str, known: Iterable[str] = (), context: str = ""):
        del known  # never used: see the class docstring
        super().__init__(name, (), context or "in this store (check the id against the child's record)")


class StaffNotFound(UnknownName):
    what = "staff member"


class UnknownPolicy(UnknownName):
    what = "policy"


class UnknownState(UnknownName):
    what = "state"


class UnknownEvent(UnknownName):
    what = "event"


class UnknownFact(UnknownName):
    what = "fact"


class StoreNotReady(BadInput):
    """The store cannot be used as it is: unreachable, or its schema is missing or old."""


class IdentityRefused(BadInput):
    """The authenticated principal may not act as the staff member named (``--as``); the attempt is audited."""

    def __init__(self, message: str, principal: str, claimed: str):
        self.principal = principal
        self.claimed = claimed
        super().__init__(message)


class MissingArguments(BadInput):
    """The action needs options that were not given (a reason, a note, the people taking part): a usage error
    that writes nothing. Carries the verdict, so the caller sees what else would be unmet once they are given."""

    def __init__(self, verdict: "Verdict"):
        self.verdict = verdict
        needs = "\n  - ".join(f"{u.argument}: {u.line()}" for u in verdict.missing)
        also = [u for u in verdict.unmet if not u.argument]
        rest = ("\nOnce given, it would still be refused:\n  - " + "\n  - ".join(u.line() for u in also)) if also else ""
        what = verdict.title or f"'{verdict.event}'"
        super().__init__(f"To {what} on case {verdict.case_id}, more is needed than was given (nothing was "
                         f"written):\n  - {needs}{rest}")


class DiagramError(BadInput):
    """Graphviz could not render: ``dot`` missing or an unsupported format."""


class Refused(CaseworkError):
    """The protocol does not allow this, now, for this person. Carries the verdict."""

    exit_code = EXIT_REFUSED

    def __init__(self, verdict: "Verdict"):
        self.verdict = verdict
        super().__init__(verdict.message())


class TransitionRefused(Refused):
    """A move was refused; the verdict lists every unmet requirement and who could meet it."""


class AllocationRefused(Refused):
    """An allocation or reallocation was refused by the definition's allocation rules."""


class RecordRefused(Refused):
    """Recording a fact was refused: this person may not record it."""


class TransferRefused(Refused):
    """A case's transfer to another team was refused: this person may not allocate it, or it is closed."""


class StaffChangeRefused(Refused):
    """A change to the staff list was refused by the staff protocol's rules."""


class AuditBroken(CaseworkError):
    """The audit log does not verify, so nothing may be rebuilt from it: the chains that break, and where.

    Rebuilding the tables from an edited log would make the edit look legitimate. Carries the
    breaks (``chain``, ``seq``, ``reason`` each), as ``audit verify`` reports them.
    """

    exit_code = EXIT_REFUSED

    def __init__(self, broken: Sequence[Any]):
        self.broken = tuple(broken)
        chains = sorted({b.chain for b in self.broken})
        named = ", ".join(chains[:10]) + (f" and {len(chains) - 10} more" if len(chains) > 10 else "")
        first = "; ".join(f"{b.chain} at entry {b.seq}: {b.reason}" for b in self.broken[:3])
        super().__init__(f"Cannot rebuild the tables from the audit log: {len(chains)} chain(s) do not verify "
                         f"({named}). {first}. Nothing was written: a rebuild from a changed log would make the "
                         f"change look legitimate. Find out what happened with 'casework audit verify', and restore "
                         f"the store from a backup taken before it.")


class Conflict(CaseworkError):
    """The store changed underneath the request, or the thing already exists."""

    exit_code = EXIT_CONFLICT


class ConcurrentUpdate(Conflict):
    """Someone else changed the case first; reload it and try again."""


class LostRace(ConcurrentUpdate):
    """Another writer took the same chain head (or the database chose this writer to lose a deadlock) at the
    same moment; nothing was written, and the service retries the whole unit of work a few times."""


class AlreadyExists(Conflict):
    """A case or staff member with that identifier already exists."""
