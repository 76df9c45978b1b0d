"""The append-only, hash-chained audit log.

One chain per case (``case:<id>``) plus one for staff changes, so writers on different
cases never wait for each other. Each entry hashes its own content and the previous
entry's hash; ``verify`` recomputes every chain and reports the first broken entry.
"""
from __future__ import annotations

import hashlib
import json
import json.encoder
import json.scanner
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .link import Link as Connection

__all__ = ["GENESIS", "Head", "append", "chain_rows", "entries", "verify", "Broken", "canonical", "CHANGES",
           "heads", "hash_at", "all_entries", "attribution_rows", "in_written_order", "people_entries", "Consumer",
           "decoded", "COLUMNS", "misplaced"]

#: the (seq, hash) of a chain's latest entry, (None, None) before its first
Head = tuple[int | None, str | None]

GENESIS = "0" * 64
_HASHED = ("chain", "seq", "recorded_at", "at", "actor", "action", "case_id", "event",
           "from_state", "to_state", "policy", "policy_version", "payload")
#: actions that bump a case's version (a refused attempt changes nothing)
CHANGES = ("open", "move", "fact", "allocate", "migrate", "transfer")

#: one encoder for every entry (json.dumps with options builds a new one per call)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
#: the same encoder's C core, made once: JSONEncoder.encode makes it again on every call, which costs as much as
#: the encoding of an entry (the text is the same: tests.test_audit compares the two)
_C_MAKER: Any = getattr(json.encoder, "c_make_encoder", None)  # CPython's, not in the typing stubs
_C_ENCODE = _C_MAKER and _C_MAKER(None, str, json.encoder.encode_basestring, None, ":", ",", True, False, True)
_SHA256 = hashlib.sha256


def _encode(value: Any) -> str:
    """*value* as canonical JSON text."""
    if _C_ENCODE is None or isinstance(value, str):  # a bare string, or no C core (not CPython): the plain way
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def canonical(payload: Any) -> str:
    """Stable JSON text: the form that is stored and hashed."""
    return _encode(payload)


#: the standard decoder's C scanner, made once: canonical text has no white space for json.loads to skip
_C_SCANNER: Any = getattr(json.scanner, "c_make_scanner", None)
_SCAN = _C_SCANNER(json.JSONDecoder()) if _C_SCANNER else None


def decoded(text: str) -> Any:
    """The value of a stored payload: json.loads(text), in about half the time for canonical text."""
    if _SCAN is not None:
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:  # not a value where canonical text starts one: json.loads says why
            return json.loads(text)
        if end == len(text):
            return value
    return json.loads(text)


def _hash_of(values: list[Any], prev_hash: str) -> str:
    """The hash of an entry: its hashed values (with its principal, when it has one) after the previous hash."""
    return _SHA256(f"{prev_hash}|{_encode(values)}".encode()).hexdigest()


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
COLUMNS = ("id", "chain", "seq", "recorded_at", "at", "actor", "action", "case_id", "event", "from_state", "to_state",
           "policy", "policy_version", "payload", "prev_hash", "hash", "principal")
_ID, _CHAIN, _SEQ, _ACTION, _CASE, _PAYLOAD, _PREV, _HASH, _PRINCIPAL = 0, 1, 2, 6, 7, 13, 14, 15, 16


#: what a verifier's consumer is given: an entry's row (``select(audit)``'s columns); it returns why the entry is
#: not one casework wrote (its chain is then reported broken there), or None
Consumer = Callable[[tuple[Any, ...]], "str | None"]


def _bounds(span: tuple[str | None, str | None], prefix: str) -> tuple[str, dict[str, str]]:
    """The statement variant and parameters for the part of the store from case *span[0]* up to *span[1]*."""
    bounds = {k: f"{prefix}{v}" for k, v in (("b_from", span[0]), ("b_to", span[1])) if v is not None}
    which = ",".join(k[2:] for k in bounds)
    return (f"({which})" if which else ""), bounds


#: which chain holds each action that changes a table other than a case's own (a case's are on its chain)
_HOME = {"staff": "staff", "team": "staff", "setting": "settings", "definition": "definitions"}


def misplaced(chain: str, action: str, case_id: str | None) -> str | None:
    """Why an entry is on a chain casework never writes it to (None: it is where casework writes it).

    A change to a table is written only on the chain that accounts for its rows: a case's on the case's own
    chain, naming the case; the staff list's, the settings' and the protocol versions' on theirs. An entry a
    forger put elsewhere (a staff row's entry on a case's chain, one case's move on another's) would otherwise
    be replayed as if it were in place, and make a forged row look accounted for."""
    if chain.startswith("case:"):
        if case_id != chain[5:]:
            return f"it names case {case_id!r} on the chain of case {chain[5:]!r} (casework writes neither)"
        if action in _HOME:
            return f"it is a {action!r} change on a case's chain; casework writes those on the {_HOME[action]!r} chain"
        return None
    if action in CHANGES:
        return f"it is a case's {action!r} on the {chain!r} chain; casework writes those on the case's own chain"
    if action in _HOME and _HOME[action] != chain:
        return f"it is a {action!r} change on the {chain!r} chain; casework writes those on the {_HOME[action]!r} chain"
    return None


def verify(conn: Connection, each: Consumer | None = None,
           span: tuple[str | None, str | None] = (None, None)) -> tuple[int, list[Broken]]:
    """Recompute every chain. Returns (entries checked, first break of each broken chain).

    One pass over the rows as plain tuples: this is the loop that bounds how fast a large store verifies.
    *each* is given every entry of a chain up to its first break (audit verify replays the tables from them
    in the same pass); *span* limits the pass to the chains that sort from ``case:<span[0]>`` up to
    ``case:<span[1]>`` and to those cases (a verifier sharing the work: the other chains sort before and after
    every case's)."""
    checked, broken = 0, []
    chain, prev, expected_seq, bad = "", GENESIS, 1, False
    changes: dict[str, int] = {}
    last_seq: dict[str, int] = {}
    hash_of = _hash_of
    which, bounds = _bounds(span, "case:")
    raw: Any = ""
    for row in conn.stream_tuples(f"audit_by_chain{which}", bounds):
        if row[_CHAIN] != raw:
            if chain:
                last_seq[chain] = expected_seq - 1
            raw = row[_CHAIN]
            chain, prev, expected_seq, bad = raw if isinstance(raw, str) else repr(raw), GENESIS, 1, False
            if not isinstance(raw, str):  # casework names chains with text only
                broken.append(Broken(chain, row[_SEQ], row[_ID], "its chain's name is not text (the entry was edited)"))
                bad = True
        checked += 1
        if row[_ACTION] in CHANGES and chain.startswith("case:"):  # a case's version counts its own chain
            changes[chain[5:]] = changes.get(chain[5:], 0) + 1
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
            else:
                reason = misplaced(chain, row[_ACTION], row[_CASE])
                if reason is None and each is not None:
                    reason = each(row)
        if reason:
            broken.append(Broken(chain, seq, row[_ID], reason))
            bad = True
        prev, expected_seq = row[_HASH], seq + 1
    if chain:
        last_seq[chain] = expected_seq - 1
    which, bounds = _bounds(span, "")
    for case_id, version in conn.execute(f"case_versions{which}", bounds):
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


def people_entries(conn: Connection) -> list[Any]:
    """The staff and settings chains' entries (id, chain, seq, action, actor, principal, recorded_at, payload as
    stored) in the order written: who each login was, and who was on the staff list, at every moment."""
    return conn.execute("people_entries").all()


def in_written_order(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every entry of every chain in the order written (by id), without its hashes, payload decoded ({} for
    the definitions chain's): for judging each action as it was when written (streamed)."""
    for row in conn.stream("in_written_order"):
        entry = dict(row._mapping)
        entry["payload"] = json.loads(entry["payload"]) if entry["payload"] is not None else {}
        yield entry
