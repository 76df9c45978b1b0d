"""The tables the guards read, re-derived from the audit chains, so that `audit verify` sees an edit of any of them.

Every change casework makes to ``cases``, ``staff``, ``facts``, ``allocations``, ``holders``,
``markers``, ``settings`` and ``definitions`` (the protocol versions kept) is written in the same unit of work
as an audit entry that says what it did. Replaying the chains therefore gives what each of those tables must hold; a row the
replay does not produce, a row it produces that is missing, or a value that differs is
reported with the table, the row and what the chain says. Hash chains make the log
tamper-evident; this makes the rest of the store answer to the log.

The same replay rebuilds those tables (``audit rebuild``), but only from chains that
verify: rebuilding from an edited log would make the edit look legitimate.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from casework.store import Connection, audit, records, tables as guarded

from ..errors import AuditBroken

__all__ = ["divergences", "derive", "rebuild", "Rebuilt"]

#: the case columns a guard reads, compared with what the chain says
_CASE_COLUMNS = ("policy", "team", "state", "version", "opened_at", "state_entered_at", "allocated_at",
                 "lead_id", "supervisor_id", "worker_id", "previous_lead_id", "policy_digest")
_STAFF_COLUMNS = ("name", "roles", "team", "registration", "registered_until", "pcf_level", "training", "login",
                  "left_on")
#: the columns that identify a fact or an allocation (their ids are the store's own numbering)
_FACT_KEY = ("case_id", "name", "at", "recorded_at", "by_id", "with_ids", "note", "state")
_ALLOCATION_KEY = ("case_id", "at", "by_id", "reason", "lead_id", "supervisor_id", "worker_id")


def _later(markers: dict[tuple[str, str], str], key: tuple[str, str], at: str) -> None:
    if key not in markers or at > markers[key]:
        markers[key] = at


def _rename(cid: str, p: dict[str, Any], facts: dict[tuple[Any, ...], int],
            markers: dict[tuple[str, str], str]) -> None:
    """A migration plan's new names for the case's recorded facts and its event and fact markers (old markers stay)."""
    names = p.get("facts", {})
    for key in [k for k in facts if k[0] == cid and k[1] in names]:
        renamed = (cid, names[key[1]], *key[2:])
        facts[renamed] = facts.get(renamed, 0) + facts.pop(key)
    for kind in ("event", "fact"):
        for old, new in p.get(f"{kind}s", {}).items():
            if (cid, f"{kind}:{old}") in markers:
                _later(markers, (cid, f"{kind}:{new}"), markers[(cid, f"{kind}:{old}")])


def derive(entries: Iterable[dict[str, Any]]) -> dict[str, dict[Any, Any]]:
    """What each table must hold after the given audit entries (in chain order), keyed by each row's identity."""
    return _replay(entries)[0]


def _replay(entries: Iterable[dict[str, Any]]) -> tuple[dict[str, dict[Any, Any]], dict[str, dict[str, str]]]:
    """derive(), and when each case and each staff member last changed (the recorded_at of its last change)."""
    updated: dict[str, dict[str, str]] = {"cases": {}, "staff": {}}
    cases: dict[str, dict[str, Any]] = {}
    staff: dict[str, dict[str, Any]] = {}
    facts: dict[tuple[Any, ...], int] = {}
    allocations: dict[tuple[Any, ...], int] = {}
    holders: dict[tuple[str, str, str], dict[str, Any]] = {}
    markers: dict[tuple[str, str], str] = {}
    settings: dict[str, str] = {}
    kept: dict[str, dict[str, Any]] = {}
    for e in entries:
        action, p, cid, at = e["action"], e["payload"], e["case_id"], e["at"]
        if action == "staff":
            staff[p["id"]] = {k: p.get(k) for k in _STAFF_COLUMNS}
            updated["staff"][p["id"]] = e["recorded_at"]
        elif action == "setting":
            settings[p["key"]] = p["value"]
        elif action == "team":  # a declared team (workflow.teams), kept among the settings
            settings[f"team:{p['team']}"] = "declared"
        elif action == "definition":  # a protocol version, kept whole (workflow.versions)
            kept[p["digest"]] = {"name": p["name"], "version": p["version"], "lineage": p["lineage"],
                                 "body": audit.canonical(p["body"]), "kept_at": e["recorded_at"]}
        elif action == "open":
            cases[cid] = {"policy": e["policy"], "team": p["team"], "state": e["to_state"], "version": 1,
                          "opened_at": at, "state_entered_at": at, "allocated_at": None, "lead_id": None,
                          "supervisor_id": None, "worker_id": None, "previous_lead_id": None,
                          "policy_digest": p.get("digest")}
            _later(markers, (cid, f"entered:{e['to_state']}"), at)
            updated["cases"][cid] = e["recorded_at"]
        elif cid in cases and action in audit.CHANGES:
            case = cases[cid]
            updated["cases"][cid] = e["recorded_at"]
            case["version"] += 1
            if p.get("pinned"):  # a case from before versions were kept, pinned by this change
                case["policy_digest"] = p["pinned"]
            if action == "migrate":
                case["policy_digest"] = p["to"]
                _rename(cid, p, facts, markers)
                if e["to_state"] != case["state"]:
                    entered = markers.get((cid, f"entered:{case['state']}"), case["state_entered_at"])
                    case["state"] = e["to_state"]
                    _later(markers, (cid, f"entered:{e['to_state']}"), entered)
            elif action == "move":
                _later(markers, (cid, f"event:{e['event']}"), at)
                if e["to_state"] != case["state"]:
                    case["state"], case["state_entered_at"] = e["to_state"], at
                    _later(markers, (cid, f"entered:{e['to_state']}"), at)
            elif action == "fact":
                key = (cid, e["event"], at, e["recorded_at"], e["actor"], json.dumps(p.get("with", [])),
                       p.get("note", ""), e["from_state"])
                facts[key] = facts.get(key, 0) + 1
                _later(markers, (cid, f"fact:{e['event']}"), at)
            elif action == "transfer":
                case["team"] = p["to_team"]
            elif action == "allocate":
                if case["lead_id"] is not None and case["lead_id"] != p["lead_id"]:
                    case["previous_lead_id"] = case["lead_id"]
                for slot in ("lead", "supervisor", "worker"):
                    if case[f"{slot}_id"] != p[f"{slot}_id"]:
                        holders[(cid, slot, p[f"{slot}_id"] or "")] = {"version": case["version"], "at": at}
                case.update(lead_id=p["lead_id"], supervisor_id=p["supervisor_id"], worker_id=p["worker_id"],
                            allocated_at=at)
                held = (cid, at, e["actor"], p.get("reason"), p["lead_id"], p["supervisor_id"], p["worker_id"])
                allocations[held] = allocations.get(held, 0) + 1
                _later(markers, (cid, "event:allocate"), at)
    return {"cases": cases, "staff": staff, "facts": facts, "allocations": allocations, "holders": holders,
            "markers": markers, "settings": settings, "definitions": kept}, updated


def _stored(conn: Connection) -> dict[str, dict[Any, Any]]:
    cases = {r["id"]: {k: r[k] for k in _CASE_COLUMNS} for r in records.rows_of(conn, "cases")}
    staff = {}
    for r in records.rows_of(conn, "staff"):
        row = {k: r[k] for k in _STAFF_COLUMNS}
        row["roles"], row["training"] = json.loads(row["roles"]), json.loads(row["training"])
        staff[r["id"]] = row
    facts: dict[tuple[Any, ...], int] = {}
    for r in records.rows_of(conn, "facts"):
        key = tuple(json.dumps(json.loads(r[k])) if k == "with_ids" else r[k] for k in _FACT_KEY)
        facts[key] = facts.get(key, 0) + 1
    allocations: dict[tuple[Any, ...], int] = {}
    for r in records.rows_of(conn, "allocations"):
        key = tuple(r[k] for k in _ALLOCATION_KEY)
        allocations[key] = allocations.get(key, 0) + 1
    holders = {(r["case_id"], r["slot"], r["staff_id"]): {"version": r["version"], "at": r["at"]}
               for r in records.rows_of(conn, "holders")}
    markers = {(r["case_id"], r["marker"]): r["at"] for r in records.rows_of(conn, "markers")}
    settings = {r["key"]: r["value"] for r in records.rows_of(conn, "settings")}
    kept = {r["digest"]: {"name": r["name"], "version": r["version"], "lineage": json.loads(r["lineage"]),
                          "body": r["body"], "kept_at": r["kept_at"]} for r in records.rows_of(conn, "definitions")}
    return {"cases": cases, "staff": staff, "facts": facts, "allocations": allocations, "holders": holders,
            "markers": markers, "settings": settings, "definitions": kept}


def _chain_of(table: str, key: Any) -> str:
    if table == "staff":
        return "staff"
    if table == "settings" and str(key).startswith("team:"):
        return "staff"
    if table in ("settings", "definitions"):
        return table
    return f"case:{key[0] if isinstance(key, tuple) else key}"


def _row(key: Any) -> str:
    return " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _differences(want: dict[str, dict[Any, Any]], have: dict[str, dict[Any, Any]]
                 ) -> Iterator[tuple[str, Any, Any, Any]]:
    """(table, row, what the chain says, what the table holds) for every row where they differ (None: absent)."""
    for table, expected in want.items():
        actual = have[table]
        differing = [key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key)]
        for key in sorted(differing, key=str):  # only the few that differ are put in order
            yield table, key, expected.get(key), actual.get(key)


def _reason(table: str, key: Any, right: Any, wrong: Any) -> str:
    if wrong is None:
        return f"table {table}: row {_row(key)} is missing; the chain says it is {right}"
    if right is None:
        return f"table {table}: row {_row(key)} ({wrong}) was made by no audit entry"
    if isinstance(wrong, dict):
        wrong = {k: v for k, v in wrong.items() if right.get(k) != v}
        right = {k: right[k] for k in wrong}
    return f"table {table}: row {_row(key)} has {wrong}; the chain says {right}"


def divergences(conn: Connection) -> list[audit.Broken]:
    """Every row of the guarded tables that differs from what the audit chains say it must be."""
    return [audit.Broken(_chain_of(table, key), 0, None, _reason(table, key, right, wrong))
            for table, key, right, wrong in _differences(derive(audit.all_entries(conn)), _stored(conn))]


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild found and wrote: per table the rows written and how many were put right."""

    #: audit entries verified and replayed
    entries: int
    #: table → {"rows": rows it holds now, "restored": were missing, "removed": no entry made them,
    #: "corrected": held other values}
    tables: dict[str, dict[str, int]]
    #: what was wrong, as audit verify words it
    found: tuple[str, ...]
    #: False for a dry run: nothing was written
    written: bool
    #: table → the columns no audit entry accounts for, kept as each row stored them (a restored row's are empty)
    kept: dict[str, tuple[str, ...]]

    @property
    def changed(self) -> int:
        """Rows restored, removed or corrected, over all tables."""
        return sum(n for counts in self.tables.values() for k, n in counts.items() if k != "rows")


def _carried(conn: Connection) -> dict[str, dict[str, dict[str, Any]]]:
    """The columns of cases and staff that the replay does not produce (a column added for something the chains
    do not record, such as ``cases.policy_digest``), as stored, by row id: a rebuild keeps them as they are
    rather than blank what it cannot derive."""
    derived = {"cases": {"id", "updated_at", *_CASE_COLUMNS}, "staff": {"id", "updated_at", *_STAFF_COLUMNS}}
    return {table: {r["id"]: {k: v for k, v in r.items() if k not in columns} for r in records.rows_of(conn, table)}
            for table, columns in derived.items()}


def _rows_to_write(want: dict[str, dict[Any, Any]], updated: dict[str, dict[str, str]],
                   carried: dict[str, dict[str, dict[str, Any]]], kept: dict[str, tuple[str, ...]]
                   ) -> dict[str, list[dict[str, Any]]]:
    """Every row of every guarded table, whole, in chain order (facts and allocations numbered anew)."""
    def repeated(key_columns: tuple[str, ...], counted: dict[tuple[Any, ...], int]) -> list[dict[str, Any]]:
        return [dict(zip(key_columns, key, strict=True)) for key, n in counted.items() for _ in range(n)]

    def whole(table: str) -> list[dict[str, Any]]:
        empty = dict.fromkeys(kept.get(table, ()))  # a restored row has them too, empty: every row, every column
        return [{**empty, **carried[table].get(rid, {}), "id": rid, **row, "updated_at": updated[table][rid]}
                for rid, row in want[table].items()]

    return {
        "cases": whole("cases"),
        "staff": whole("staff"),
        "facts": repeated(_FACT_KEY, want["facts"]),
        "allocations": repeated(_ALLOCATION_KEY, want["allocations"]),
        "holders": [{"case_id": cid, "slot": slot, "staff_id": who, **held}
                    for (cid, slot, who), held in want["holders"].items()],
        "markers": [{"case_id": cid, "marker": marker, "at": at} for (cid, marker), at in want["markers"].items()],
        "settings": [{"key": key, "value": value} for key, value in want["settings"].items()],
        "definitions": [{"digest": digest, **row} for digest, row in want["definitions"].items()],
    }


def _counts(right: Any, wrong: Any) -> dict[str, int]:
    if isinstance(right or wrong, int):  # facts and allocations: how many identical rows there are
        gap = (right or 0) - (wrong or 0)
        return {"restored": gap} if gap > 0 else {"removed": -gap}
    return {"restored": 1} if wrong is None else {"removed": 1} if right is None else {"corrected": 1}


def rebuild(conn: Connection, dry_run: bool = False) -> Rebuilt:
    """Replace every guarded table's rows with what the audit chains say (inside the caller's unit of work).

    Refuses (AuditBroken, nothing written) when any chain does not verify, or a case's version disagrees
    with its chain (what a cut-short chain looks like): the tables are rebuilt only from an intact log.
    A column the chains do not account for is kept as its row stored it (see _carried). With *dry_run*,
    reports what it would change and writes nothing.
    """
    if not dry_run:
        guarded.lock_guarded_tables(conn)  # no writer may add to a chain between the check and the rewrite
    checked, broken = audit.verify(conn)
    if broken:
        raise AuditBroken(broken)
    want, updated = _replay(audit.all_entries(conn))
    carried = _carried(conn)
    kept = {table: tuple(sorted({k for row in by_id.values() for k in row})) for table, by_id in carried.items()}
    kept = {table: columns for table, columns in kept.items() if columns}
    rows = _rows_to_write(want, updated, carried, kept)
    tables = {table: {"rows": len(held), "restored": 0, "removed": 0, "corrected": 0} for table, held in rows.items()}
    found = []
    for table, key, right, wrong in _differences(want, _stored(conn)):
        found.append(_reason(table, key, right, wrong))
        for kind, n in _counts(right, wrong).items():
            tables[table][kind] += n
    if not dry_run:
        for table, held in rows.items():
            guarded.replace_rows(conn, table, held)
    return Rebuilt(checked, tables, tuple(found), not dry_run, kept)
