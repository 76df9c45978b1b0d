"""The append-only, hash-chained audit log.

One chain per case (``case:<id>``) plus one for staff changes, so writers on different
cases never wait for each other. Each entry hashes its own content and the previous
entry's hash; ``verify`` recomputes every chain and reports the first broken entry.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator

from .link import Link as Connection

__all__ = ["GENESIS", "Head", "append", "chain_rows", "entries", "verify", "Broken", "canonical", "CHANGES",
           "heads", "hash_at", "all_entries", "attribution_rows", "in_written_order"]

#: the (seq, hash) of a chain's latest entry, (None, None) before its first
Head = tuple[int | None, str | None]

GENESIS = "0" * 64
_HASHED = ("chain", "seq", "recorded_at", "at", "actor", "action", "case_id", "event",
           "from_state", "to_state", "policy", "policy_version", "payload")
#: actions that bump a case's version (a refused attempt changes nothing)
CHANGES = ("open", "move", "fact", "allocate", "migrate", "transfer")

#: one encoder for every entry (json.dumps with options builds a new one per call)
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode
_SHA256 = hashlib.sha256


def canonical(payload: Any) -> str:
    """Stable JSON text: the form that is stored and hashed."""
    return _ENCODE(payload)


def _hash_of(values: list[Any], prev_hash: str) -> str:
    """The hash of an entry: its hashed values (with its principal, when it has one) after the previous hash."""
    return _SHA256(f"{prev_hash}|{_ENCODE(values)}".encode()).hexdigest()


def _digest(row: dict[str, Any], prev_hash: str) -> str:
    values = [row[k] for k in _HASHED]
    if row.get("principal") is not None:  # entries made before principals were kept hash as they did
        values.append(row["principal"])
    return _hash_of(values, prev_hash)


def chain_rows(chain: str, entries_fields: list[dict[str, Any]], seq: int = 0,
               prev_hash: str = GENESIS) -> list[dict[str, Any]]:
    """Rows that continue *chain* after entry *seq* (hash *prev_hash*), each linked to the one before."""
    rows = []
    for fields in entries_fields:
        row: dict[str, Any] = {k: None for k in (*_HASHED, "principal")}
        row.update(fields)
        seq += 1
        row.update(chain=chain, seq=seq, payload=canonical(fields.get("payload", {})), prev_hash=prev_hash)
        row["hash"] = prev_hash = _digest(row, prev_hash)
        rows.append(row)
    return rows



def append(conn: Connection, chain: str, head: Head | None = None, **fields: Any) -> dict[str, Any]:
    """Add one entry at the head of *chain* inside the caller's transaction.

    *head* is the chain's (seq, hash) when the caller read it in this transaction already
    (``(None, None)`` for an empty chain); a stale head fails on the chain's unique key.
    """
    if head is None:
        found = conn.execute("audit_head", {"b_chain": chain}).first()
        head = (found.seq, found.hash) if found else (None, None)
    row = chain_rows(chain, [fields], head[0] or 0, head[1] or GENESIS)[0]
    conn.execute("append_audit", row)
    return row


def entries(conn: Connection, chain: str) -> list[dict[str, Any]]:
    """Every entry of one chain, oldest first, payload decoded."""
    rows = conn.execute("chain_entries", {"b_chain": chain}).mappings()
    return [{**row, "payload": json.loads(row["payload"])} for row in rows]


@dataclass(frozen=True)
class Broken:
    """The first entry of a chain that does not verify, and why."""

    chain: str
    seq: int
    entry_id: int | None
    reason: str


def _rows(conn: Connection) -> Iterator[Any]:
    yield from conn.stream("audit_by_chain")


#: the audit table's columns, in the order its statements select them (``select(audit)``)
_ID, _CHAIN, _SEQ, _ACTION, _CASE, _PAYLOAD, _PREV, _HASH, _PRINCIPAL = 0, 1, 2, 6, 7, 13, 14, 15, 16


def verify(conn: Connection) -> tuple[int, list[Broken]]:
    """Recompute every chain. Returns (entries checked, first break of each broken chain).

    One pass over the rows as plain tuples: this is the loop that bounds how fast a large store verifies."""
    checked, broken = 0, []
    chain, prev, expected_seq, bad = "", GENESIS, 1, False
    changes: dict[str, int] = {}
    last_seq: dict[str, int] = {}
    hash_of = _hash_of
    for row in conn.stream_tuples("audit_by_chain"):
        if row[_CHAIN] != chain:
            if chain:
                last_seq[chain] = expected_seq - 1
            chain, prev, expected_seq, bad = row[_CHAIN], GENESIS, 1, False
        checked += 1
        if row[_ACTION] in CHANGES and row[_CASE] is not None:
            changes[row[_CASE]] = changes.get(row[_CASE], 0) + 1
        if bad:
            continue
        seq = row[_SEQ]
        reason = None
        if seq != expected_seq:
            reason = f"entry {expected_seq} is missing (found {seq})"
        elif row[_PREV] != prev:
            reason = "its link to the previous entry does not match (an entry was changed or removed)"
        else:
            values = list(row[_CHAIN:_PREV])
            if row[_PRINCIPAL] is not None:  # entries made before principals were kept hash as they did
                values.append(row[_PRINCIPAL])
            if hash_of(values, prev) != row[_HASH]:
                reason = "its content does not match its hash (the entry was changed)"
        if reason:
            broken.append(Broken(chain, seq, row[_ID], reason))
            bad = True
        prev, expected_seq = row[_HASH], seq + 1
    if chain:
        last_seq[chain] = expected_seq - 1
    for case_id, version in conn.execute("case_versions"):
        chain = f"case:{case_id}"
        if changes.get(case_id, 0) != version and not any(b.chain == chain for b in broken):
            broken.append(Broken(chain, last_seq.get(chain, 0) + 1, None,
                                 f"the case is at version {version} but its chain records "
                                 f"{changes.get(case_id, 0)} changes (entries were removed)"))
    return checked, broken


def all_entries(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every entry of every chain, chain by chain and oldest first, payload decoded (streamed)."""
    for row in _rows(conn):
        entry = dict(row._mapping)
        entry["payload"] = json.loads(entry["payload"])
        yield entry


def heads(conn: Connection) -> dict[str, tuple[int, str]]:
    """The (seq, hash) of every chain's latest entry: what a checkpoint signs."""
    return {row.chain: (row.seq, row.hash) for row in conn.execute("audit_heads")}


def hash_at(conn: Connection, entries: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The hash of each (chain, seq) entry that exists (for comparing with a checkpoint)."""
    found: dict[tuple[str, int], str] = {}
    for start in range(0, len(entries), 500):
        part = entries[start:start + 500]
        for row in conn.execute("hash_at", {"b_pairs": part}):
            found[(row.chain, row.seq)] = row.hash
    return found


def attribution_rows(conn: Connection) -> Iterator[Any]:
    """Every entry's (id, chain, seq, action, actor, principal) in the order written, with the payload of staff
    and settings entries only (what says which login acts as whom): for checking principals (streamed)."""
    yield from conn.stream("attribution_rows")


def in_written_order(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every entry of every chain in the order written (by id), without its hashes, payload decoded ({} for
    the definitions chain's): for judging each action as it was when written (streamed)."""
    for row in conn.stream("in_written_order"):
        entry = dict(row._mapping)
        entry["payload"] = json.loads(entry["payload"]) if entry["payload"] is not None else {}
        yield entry
