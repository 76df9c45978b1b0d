"""The tables the guards read, re-derived from the audit chains, so that `audit verify` sees an edit of any of them.

Every change casework makes to ``cases``, ``staff``, ``facts``, ``allocations``, ``markers``
and ``settings`` is written in the same unit of work as an audit entry that says what it
did. Replaying the chains therefore gives what each of those tables must hold; a row the
replay does not produce, a row it produces that is missing, or a value that differs is
reported with the table, the row and what the chain says. Hash chains make the log
tamper-evident; this makes the rest of the store answer to the log.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from store import Connection, audit, records

__all__ = ["divergences", "derive"]

#: the case columns a guard reads, compared with what the chain says
_CASE_COLUMNS = ("policy", "team", "state", "version", "opened_at", "state_entered_at", "allocated_at",
                 "lead_id", "supervisor_id", "worker_id", "previous_lead_id")
_STAFF_COLUMNS = ("name", "roles", "team", "registration", "registered_until", "pcf_level", "training")


def _later(markers: dict[tuple[str, str], str], key: tuple[str, str], at: str) -> None:
    if key not in markers or at > markers[key]:
        markers[key] = at


def derive(entries: Iterable[dict[str, Any]]) -> dict[str, dict[Any, Any]]:
    """What each table must hold after the given audit entries (in chain order), keyed by each row's identity."""
    cases: dict[str, dict[str, Any]] = {}
    staff: dict[str, dict[str, Any]] = {}
    facts: dict[tuple[Any, ...], int] = {}
    allocations: dict[tuple[Any, ...], int] = {}
    markers: dict[tuple[str, str], str] = {}
    settings: dict[str, str] = {}
    for e in entries:
        action, p, cid, at = e["action"], e["payload"], e["case_id"], e["at"]
        if action == "staff":
            staff[p["id"]] = {k: p.get(k) for k in _STAFF_COLUMNS}
        elif action == "setting":
            settings[p["key"]] = p["value"]
        elif action == "open":
            cases[cid] = {"policy": e["policy"], "team": p["team"], "state": e["to_state"], "version": 1,
                          "opened_at": at, "state_entered_at": at, "allocated_at": None, "lead_id": None,
                          "supervisor_id": None, "worker_id": None, "previous_lead_id": None}
            _later(markers, (cid, f"entered:{e['to_state']}"), at)
        elif cid in cases and action in audit.CHANGES:
            case = cases[cid]
            case["version"] += 1
            if action == "move":
                _later(markers, (cid, f"event:{e['event']}"), at)
                if e["to_state"] != case["state"]:
                    case["state"], case["state_entered_at"] = e["to_state"], at
                    _later(markers, (cid, f"entered:{e['to_state']}"), at)
            elif action == "fact":
                key = (cid, e["event"], at, e["recorded_at"], e["actor"], json.dumps(p.get("with", [])),
                       p.get("note", ""), e["from_state"])
                facts[key] = facts.get(key, 0) + 1
                _later(markers, (cid, f"fact:{e['event']}"), at)
            elif action == "allocate":
                if case["lead_id"] is not None and case["lead_id"] != p["lead_id"]:
                    case["previous_lead_id"] = case["lead_id"]
                case.update(lead_id=p["lead_id"], supervisor_id=p["supervisor_id"], worker_id=p["worker_id"],
                            allocated_at=at)
                key = (cid, at, e["actor"], p.get("reason"), p["lead_id"], p["supervisor_id"], p["worker_id"])
                allocations[key] = allocations.get(key, 0) + 1
                _later(markers, (cid, "event:allocate"), at)
    return {"cases": cases, "staff": staff, "facts": facts, "allocations": allocations, "markers": markers,
            "settings": settings}


def _stored(conn: Connection) -> dict[str, dict[Any, Any]]:
    cases = {r["id"]: {k: r[k] for k in _CASE_COLUMNS} for r in records.rows_of(conn, "cases")}
    staff = {}
    for r in records.rows_of(conn, "staff"):
        row = {k: r[k] for k in _STAFF_COLUMNS}
        row["roles"], row["training"] = json.loads(row["roles"]), json.loads(row["training"])
        staff[r["id"]] = row
    facts: dict[tuple[Any, ...], int] = {}
    for r in records.rows_of(conn, "facts"):
        key = (r["case_id"], r["name"], r["at"], r["recorded_at"], r["by_id"],
               json.dumps(json.loads(r["with_ids"])), r["note"], r["state"])
        facts[key] = facts.get(key, 0) + 1
    allocations: dict[tuple[Any, ...], int] = {}
    for r in records.rows_of(conn, "allocations"):
        key = (r["case_id"], r["at"], r["by_id"], r["reason"], r["lead_id"], r["supervisor_id"], r["worker_id"])
        allocations[key] = allocations.get(key, 0) + 1
    markers = {(r["case_id"], r["marker"]): r["at"] for r in records.rows_of(conn, "markers")}
    settings = {r["key"]: r["value"] for r in records.rows_of(conn, "settings")}
    return {"cases": cases, "staff": staff, "facts": facts, "allocations": allocations, "markers": markers,
            "settings": settings}


def _chain_of(table: str, key: Any) -> str:
    if table == "staff":
        return "staff"
    if table == "settings":
        return "settings"
    return f"case:{key[0] if isinstance(key, tuple) else key}"


def _row(key: Any) -> str:
    return " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def divergences(conn: Connection) -> list[audit.Broken]:
    """Every row of the guarded tables that differs from what the audit chains say it must be."""
    want, have = derive(audit.all_entries(conn)), _stored(conn)
    found: list[audit.Broken] = []
    for table in want:
        expected, actual = want[table], have[table]
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                reason = f"table {table}: row {_row(key)} is missing; the chain says it is {expected[key]}"
            elif key not in expected:
                reason = f"table {table}: row {_row(key)} ({actual[key]}) was made by no audit entry"
            elif expected[key] != actual[key]:
                wrong = {k: v for k, v in actual[key].items() if expected[key].get(k) != v} \
                    if isinstance(actual[key], dict) else actual[key]
                right = {k: expected[key][k] for k in wrong} if isinstance(wrong, dict) else expected[key]
                reason = f"table {table}: row {_row(key)} has {wrong}; the chain says {right}"
            else:
                continue
            found.append(audit.Broken(_chain_of(table, key), 0, None, reason))
    return found
