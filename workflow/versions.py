"""Protocol versions: a case is judged by the version it was opened under, kept whole in the store.

The files on disk say what *new* cases open under. The first time a version is used, its
resolved definition is written to the store (table ``definitions``, keyed by its digest,
with an entry on the ``definitions`` chain that carries it whole), and each case row names
the digest of its version. Reading a case takes that version from the files while they
still hold it, and from the store otherwise, so a changed, renamed or deleted file never
strands a live case: it becomes a new version, for new cases only until cases are migrated.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from threading import Lock
from typing import Any


from casework.store import Connection, audit, records

from .catalogue import NATIONAL
from .definition import Definition
from ..errors import BadInput, CaseworkError
from .floor import floor_findings
from .loader import Policies, body_of
from .model import replace

__all__ = ["Versions", "VersionUnavailable", "body_of", "keep", "label"]


class VersionUnavailable(BadInput):
    """A case's protocol version is neither in the files on offer nor (intact) in the store."""


def _digest_of(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def label(definition: Definition) -> str:
    """'kent v2 (3f2a9c41b7de)': how messages and listings name a version."""
    return f"{definition.name} v{definition.version} ({definition.digest[:12]})"


def keep(conn: Connection, definition: Definition, actor: str, principal: str, now: str) -> None:
    """Write *definition* to the store unless its version is there already (in the caller's unit of work)."""
    if records.get_definition(conn, definition.digest) is not None:
        return
    body = body_of(definition)
    records.insert_definition(conn, {"digest": definition.digest, "name": definition.name,
                                     "version": definition.version, "lineage": list(definition.lineage),
                                     "body": audit.canonical(body), "kept_at": now})
    records.lock_chain(conn, "definitions")
    audit.append(conn, "definitions", recorded_at=now, at=now, actor=actor, principal=principal,
                 action="definition", event=definition.name, policy=definition.name,
                 policy_version=f"{definition.version}@{definition.digest[:12]}",
                 payload={"digest": definition.digest, "name": definition.name, "version": definition.version,
                          "lineage": list(definition.lineage), "body": body})


def _restore(row: dict[str, Any]) -> Definition:
    body = json.loads(row["body"])
    if _digest_of(body) != row["digest"]:
        raise VersionUnavailable(f"The store's copy of {row['name']} v{row['version']} ({row['digest'][:12]}) does not "
                                 f"match its digest: it was changed. Run 'casework audit verify'.")
    from . import schema  # pydantic, only when a kept version is read back

    try:
        definition = schema.validate(Definition, body)
    except schema.ValidationError as exc:
        raise VersionUnavailable(f"This casework cannot read {row['name']} v{row['version']} ({row['digest'][:12]}) "
                                 f"as the store keeps it ({exc.error_count()} problems): install the casework "
                                 f"that kept it, or a newer one.") from None
    return replace(definition, digest=row["digest"])


class Versions:
    """Every protocol version a workspace has met, by digest: from the files on offer, else from the store."""

    def __init__(self, policies: Policies):
        self.policies = policies
        self._known: dict[str, Definition] = {}
        self._lock = Lock()

    def current(self, policy: str) -> Definition:
        """The version new cases of *policy* open under: the one the files hold now."""
        definition = self.policies.get(policy)
        with self._lock:
            self._known.setdefault(definition.digest, definition)
        return definition

    def for_opening(self, policy: str, day: date) -> Definition:
        """The version a case of *policy* opened on *day* runs under: of the file's and the earlier versions',
        the one in effect that day that took effect last (BadInput when none is)."""
        candidates = self.policies.versions_of(policy)
        in_effect = [d for d in candidates if d.in_effect_on(day)]
        if not in_effect:
            spans = "; ".join(f"v{d.version} {d.effective_from or '…'} to {d.effective_until or '…'}"
                              for d in candidates)
            raise BadInput(f"No version of {policy!r} is in effect on {day} ({spans}).")
        # the one that took effect last; between versions with the same first day, the file's own (the newest)
        chosen = max(in_effect, key=lambda d: (d.effective_from or date.min, d is candidates[0]))
        with self._lock:
            self._known.setdefault(chosen.digest, chosen)
        return chosen

    def of(self, conn: Connection, policy: str, digest: str | None) -> Definition:
        """The version a case of *policy* pinned to *digest* runs under (None: a case from before versions were
        kept, which follows the files until its next change pins it)."""
        if digest is None:
            return self.current(policy)
        with self._lock:
            found = self._known.get(digest)
        if found is not None:
            return found
        try:
            if self.current(policy).digest == digest:
                return self._known[digest]
        except CaseworkError:
            pass  # the file is gone or no longer loads: the store's copy is the version
        row = records.get_definition(conn, digest)
        if row is None:
            raise VersionUnavailable(f"Case's protocol version {policy} ({digest[:12]}) is neither in the files on "
                                     f"offer nor in the store.")
        definition = self._checked(_restore(row))
        with self._lock:
            self._known.setdefault(digest, definition)
        return definition

    def _checked(self, definition: Definition) -> Definition:
        """A version read from the store only if it keeps today's national floor (a local one), or is a national
        version the shipped files hold: a row written by anyone but casework cannot loosen the rules."""
        if definition.name == NATIONAL or len(definition.lineage) < 2 or definition.lineage[0] != NATIONAL:
            if any(d.digest == definition.digest for d in self.policies.versions_of(NATIONAL)):
                return definition
            raise VersionUnavailable(f"The store keeps {label(definition)}, a baseline casework does not ship: it "
                                     f"was not written by casework. Run 'casework audit verify'.")
        found = floor_findings(self.current(NATIONAL), definition)
        if found:
            path, problem, _fix = found[0]
            raise VersionUnavailable(f"The store's copy of {label(definition)} loosens the national floor (at "
                                     f"{'.'.join(map(str, path))}: {problem}): it was not written by casework. Run "
                                     f"'casework audit verify'.")
        return definition

    def known(self, conn: Connection, files: bool = True) -> list[Definition]:
        """Every version a case may run under: the files' and the store's, or without *files* the store's alone
        (the versions its cases were opened under). One that cannot be read is skipped, to be reported on each
        of its cases."""
        found = []
        for name in self.policies.names() if files else ():
            try:
                found.append(self.current(name))
            except CaseworkError:
                continue
        for row in records.list_definitions(conn):
            try:
                found.append(self.of(conn, row["name"], row["digest"]))
            except CaseworkError:
                continue
        return found

    def opening_or_none(self, policy: str, day: date) -> Definition | None:
        """:meth:`for_opening`, or None when no version of *policy* can open a case on *day* (its file gone or
        broken, or none in effect): for listings that say what is current without failing over it."""
        try:
            return self.for_opening(policy, day)
        except CaseworkError:
            return None
