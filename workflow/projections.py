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
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

from casework.store import Connection, audit, records, tables as guarded
from casework.store.parts import Span

from ..errors import AuditBroken

__all__ = ["derive", "rebuild", "Rebuilt", "Replay", "stored", "differences", "broken_rows"]

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


def _with_text(people: Any) -> str:
    """A fact's ``with`` list as the replay and the stored row are compared (json.dumps' spacing)."""
    return "[]" if people == [] else json.dumps(people)


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


class Replay:
    """What each table must hold, built up entry by entry in chain order (``derive`` over a list, audit verify
    as it streams the log), with when each case and staff member last changed (its last change's recorded_at)."""

    def __init__(self) -> None:
        self.updated: dict[str, dict[str, str]] = {"cases": {}, "staff": {}}
        self.cases: dict[str, dict[str, Any]] = {}
        self.staff: dict[str, dict[str, Any]] = {}
        self.facts: dict[tuple[Any, ...], int] = {}
        self.allocations: dict[tuple[Any, ...], int] = {}
        self.holders: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.markers: dict[tuple[str, str], str] = {}
        self.settings: dict[str, str] = {}
        self.kept: dict[str, dict[str, Any]] = {}

    @property
    def tables(self) -> dict[str, dict[Any, Any]]:
        """Each guarded table's rows, keyed by each row's identity."""
        return {"cases": self.cases, "staff": self.staff, "facts": self.facts, "allocations": self.allocations,
                "holders": self.holders, "markers": self.markers, "settings": self.settings,
                "definitions": self.kept}

    def row(self, row: tuple[Any, ...]) -> str | None:
        """One entry as the audit table holds it (``audit.COLUMNS``), for audit.verify's pass: None, or why it
        is not an entry casework writes (a payload that is not its JSON)."""
        (_id, _chain, _seq, recorded_at, at, actor, action, case_id, event, from_state, to_state, policy,
         _version, payload, *_links) = row
        try:
            self.add(action, audit.decoded(payload), case_id, at, recorded_at, actor, event, from_state, to_state,
                     policy)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"its payload is not what casework writes for {action!r} ({type(exc).__name__}: {exc})"
        return None

    def add(self, action: str, p: Any, cid: str | None, at: str, recorded_at: str, actor: str, event: str | None,
            from_state: str | None, to_state: str | None, policy: str | None) -> None:
        """One entry's change to the tables (entries of a chain come in its order)."""
        markers, cases = self.markers, self.cases
        if action == "staff":
            self.staff[p["id"]] = {k: p.get(k) for k in _STAFF_COLUMNS}
            self.updated["staff"][p["id"]] = recorded_at
        elif action == "setting":
            self.settings[p["key"]] = p["value"]
        elif action == "team":  # a declared team (workflow.teams), kept among the settings
            self.settings[f"team:{p['team']}"] = "declared"
        elif action == "definition":  # a protocol version, kept whole (workflow.versions)
            self.kept[p["digest"]] = {"name": p["name"], "version": p["version"], "lineage": p["lineage"],
                                      "body": audit.canonical(p["body"]), "kept_at": recorded_at}
        elif action == "open":
            assert cid is not None
            cases[cid] = {"policy": policy, "team": p["team"], "state": to_state, "version": 1,
                          "opened_at": at, "state_entered_at": at, "allocated_at": None, "lead_id": None,
                          "supervisor_id": None, "worker_id": None, "previous_lead_id": None,
                          "policy_digest": p.get("digest")}
            _later(markers, (cid, f"entered:{to_state}"), at)
            self.updated["cases"][cid] = recorded_at
        elif cid in cases and action in audit.CHANGES:
            assert cid is not None
            case = cases[cid]
            self.updated["cases"][cid] = recorded_at
            case["version"] += 1
            if p.get("pinned"):  # a case from before versions were kept, pinned by this change
                case["policy_digest"] = p["pinned"]
            if action == "migrate":
                case["policy_digest"] = p["to"]
                _rename(cid, p, self.facts, markers)
                if to_state != case["state"]:
                    entered = markers.get((cid, f"entered:{case['state']}"), case["state_entered_at"])
                    case["state"] = to_state
                    _later(markers, (cid, f"entered:{to_state}"), entered)
            elif action == "move":
                _later(markers, (cid, f"event:{event}"), at)
                if to_state != case["state"]:
                    case["state"], case["state_entered_at"] = to_state, at
                    _later(markers, (cid, f"entered:{to_state}"), at)
            elif action == "fact":
                key = (cid, event, at, recorded_at, actor, _with_text(p.get("with", [])), p.get("note", ""),
                       from_state)
                self.facts[key] = self.facts.get(key, 0) + 1
                _later(markers, (cid, f"fact:{event}"), at)
            elif action == "transfer":
                case["team"] = p["to_team"]
            elif action == "allocate":
                if case["lead_id"] is not None and case["lead_id"] != p["lead_id"]:
                    case["previous_lead_id"] = case["lead_id"]
                for slot in ("lead", "supervisor", "worker"):
                    if case[f"{slot}_id"] != p[f"{slot}_id"]:
                        self.holders[(cid, slot, p[f"{slot}_id"] or "")] = {"version": case["version"], "at": at}
                case.update(lead_id=p["lead_id"], supervisor_id=p["supervisor_id"], worker_id=p["worker_id"],
                            allocated_at=at)
                held = (cid, at, actor, p.get("reason"), p["lead_id"], p["supervisor_id"], p["worker_id"])
                self.allocations[held] = self.allocations.get(held, 0) + 1
                _later(markers, (cid, "event:allocate"), at)


def derive(entries: Iterable[dict[str, Any]]) -> dict[str, dict[Any, Any]]:
    """What each table must hold after the given audit entries (in chain order), keyed by each row's identity."""
    return _replay(entries).tables


def _replay(entries: Iterable[dict[str, Any]]) -> Replay:
    replay = Replay()
    for e in entries:
        replay.add(e["action"], e["payload"], e["case_id"], e["at"], e["recorded_at"], e["actor"], e["event"],
                   e["from_state"], e["to_state"], e["policy"])
    return replay


def _stored_json(text: Any) -> Any:
    """A JSON column's value as stored; text that is not JSON (an edit) as itself, which no replay produces, so
    that the row is reported rather than the check stopped."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _indexed(columns: tuple[str, ...], wanted: tuple[str, ...]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A row's values of *wanted*, in that order, from a tuple that follows *columns*."""
    return itemgetter(*(columns.index(c) for c in wanted))


def stored(conn: Connection, span: Span = (None, None), people: bool = True) -> dict[str, dict[Any, Any]]:
    """What each guarded table holds, keyed as ``derive`` keys it: of the cases in *span*, and (with *people*)
    the staff, settings and definitions (streamed as plain tuples: audit verify reads every row once)."""
    found: dict[str, dict[Any, Any]] = {t: {} for t in ("cases", "staff", "facts", "allocations", "holders",
                                                         "markers", "settings", "definitions")}
    names, rows = records.table_rows(conn, "cases", span)
    pick, at = _indexed(names, _CASE_COLUMNS), names.index("id")
    found["cases"] = {r[at]: dict(zip(_CASE_COLUMNS, pick(r), strict=True)) for r in rows}
    for table, key in (("facts", _FACT_KEY), ("allocations", _ALLOCATION_KEY)):
        names, rows = records.table_rows(conn, table, span)
        pick, counted, seen = _indexed(names, key), found[table], {}
        with_at = key.index("with_ids") if table == "facts" else -1
        for r in rows:
            values = pick(r)
            if with_at >= 0:  # as the replay writes it, whatever spacing the row was stored with
                text = values[with_at]
                if text not in seen:
                    seen[text] = _with_text(_stored_json(text))
                values = (*values[:with_at], seen[text], *values[with_at + 1:])
            counted[values] = counted.get(values, 0) + 1
    names, rows = records.table_rows(conn, "holders", span)
    pick = _indexed(names, ("case_id", "slot", "staff_id", "version", "at"))
    found["holders"] = {(c, slot, who): {"version": v, "at": at} for c, slot, who, v, at in map(pick, rows)}
    names, rows = records.table_rows(conn, "markers", span)
    pick = _indexed(names, ("case_id", "marker", "at"))
    found["markers"] = {(c, m): at for c, m, at in map(pick, rows)}
    if people:
        for person in records.rows_of(conn, "staff"):
            kept = {k: person[k] for k in _STAFF_COLUMNS}
            kept["roles"], kept["training"] = _stored_json(kept["roles"]), _stored_json(kept["training"])
            found["staff"][person["id"]] = kept
        found["settings"] = {r["key"]: r["value"] for r in records.rows_of(conn, "settings")}
        found["definitions"] = {r["digest"]: {"name": r["name"], "version": r["version"],
                                              "lineage": _stored_json(r["lineage"]), "body": r["body"],
                                              "kept_at": r["kept_at"]} for r in records.rows_of(conn, "definitions")}
    return found


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
        if expected == actual:  # the common case, compared without a key's lookup in Python
            continue
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


def differences(want: dict[str, dict[Any, Any]], have: dict[str, dict[Any, Any]]
                ) -> list[tuple[str, Any, Any, Any]]:
    """(table, row, what the chain says, what the table holds) for every row where they differ (None: absent),
    table by table in a fixed order and in order of the row within each."""
    return list(_differences(want, have))


def broken_rows(found: Iterable[tuple[str, Any, Any, Any]]) -> list[audit.Broken]:
    """Each difference as audit verify reports it, on the chain that accounts for its row."""
    return [audit.Broken(_chain_of(table, key), 0, None, _reason(table, key, right, wrong))
            for table, key, right, wrong in found]


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
    replay = Replay()
    checked, broken = audit.verify(conn, replay.row)  # replayed in the same pass; used only if nothing is broken
    if broken:
        raise AuditBroken(broken)
    want, updated = replay.tables, replay.updated
    carried = _carried(conn)
    kept = {table: tuple(sorted({k for row in by_id.values() for k in row})) for table, by_id in carried.items()}
    kept = {table: columns for table, columns in kept.items() if columns}
    rows = _rows_to_write(want, updated, carried, kept)
    tables = {table: {"rows": len(held), "restored": 0, "removed": 0, "corrected": 0} for table, held in rows.items()}
    found = []
    for table, key, right, wrong in _differences(want, stored(conn)):
        found.append(_reason(table, key, right, wrong))
        for kind, n in _counts(right, wrong).items():
            tables[table][kind] += n
    if not dry_run:
        for table, held in rows.items():
            guarded.replace_rows(conn, table, held)
    return Rebuilt(checked, tables, tuple(found), not dry_run, kept)
