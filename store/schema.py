"""The tables, as SQLAlchemy Core metadata (Core, not the ORM: a durable move is two statements).

Schema changes go through Alembic migrations in ``store/migrations``; this module is the
current shape that the queries use.
"""
from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

__all__ = ["metadata", "staff", "cases", "allocations", "holders", "facts", "audit", "markers", "settings",
           "definitions", "due_dates", "due_cases"]

metadata = MetaData()

staff = Table(
    "staff", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("roles", Text, nullable=False),  # JSON list of role identifiers
    Column("team", String(100)),
    Column("registration", String(32)),
    Column("registered_until", String(10)),
    Column("pcf_level", Integer),
    Column("training", Text, nullable=False, server_default="[]"),  # JSON list
    Column("updated_at", String(32), nullable=False),
    #: the database login that authenticates as this person on a shared store (workflow.identity)
    Column("login", String(64)),
    #: the day their employment ended: they no longer act, and their open cases need reallocating
    Column("left_on", String(10)),
    Index("ix_staff_login", "login"),
)

cases = Table(
    "cases", metadata,
    Column("id", String(64), primary_key=True),
    Column("policy", String(64), nullable=False),
    Column("team", String(100), nullable=False),
    Column("state", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("state_entered_at", String(32), nullable=False),
    Column("allocated_at", String(32)),
    Column("lead_id", String(64)),
    Column("supervisor_id", String(64)),
    Column("worker_id", String(64)),
    Column("previous_lead_id", String(64)),
    Column("updated_at", String(32), nullable=False),
    #: the protocol version the case runs under (definitions.digest); None: opened before versions were kept
    Column("policy_digest", String(64)),
    Index("ix_cases_state", "state"),
    Index("ix_cases_team", "team"),
    Index("ix_cases_lead", "lead_id", "state"),
    Index("ix_cases_worker", "worker_id", "state"),
    Index("ix_cases_supervisor", "supervisor_id", "state"),
    Index("ix_cases_digest", "policy_digest", "state"),
)

allocations = Table(
    "allocations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("lead_id", String(64), nullable=False),
    Column("supervisor_id", String(64)),
    Column("worker_id", String(64)),
    Column("by_id", String(64), nullable=False),
    Column("reason", Text),
    Index("ix_allocations_case", "case_id"),
)

#: who has held each slot of a case (lead, supervisor, worker) and when each last took it, so that judging an
#: action reads a row per person instead of the case's every allocation: the former leads, and when the slot
#: last changed hands and the time before (workflow.hydrate). Derived from the allocations, audited like them.
holders = Table(
    "holders", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("slot", String(16), primary_key=True),
    #: '' for the slot left empty (a worker taken off the case)
    Column("staff_id", String(64), primary_key=True),
    #: the case's version the allocation that gave them the slot made: orders hand-overs made at one time
    Column("version", Integer, nullable=False),
    Column("at", String(32), nullable=False),
)

facts = Table(
    "facts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("by_id", String(64), nullable=False),
    Column("with_ids", Text, nullable=False, server_default="[]"),  # JSON list
    Column("note", Text, nullable=False, server_default=""),
    Column("state", String(64), nullable=False),
    Index("ix_facts_case", "case_id"),
    Index("ix_facts_case_name_at", "case_id", "name", "at"),
)

#: latest time of each thing that happened on a case ('entered:<state>', 'event:<name>',
#: 'fact:<name>'): what deadlines are computed from, so `due` never replays history
markers = Table(
    "markers", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("marker", String(140), primary_key=True),
    Column("at", String(32), nullable=False),
)

#: each open case's deadlines and the day each falls due (derived: re-made with every change to the case), so
#: that `due` reads the items due instead of judging every open case (workflow.due_dates)
due_dates = Table(
    "due_dates", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("deadline", String(64), primary_key=True),
    Column("due_on", String(10), nullable=False),
    Index("ix_due_dates_due_on", "due_on"),
)

#: the cases whose due_dates are made, and under what: England's bank holidays (a fingerprint) and the protocol
#: version; a case missing here, or made under other holidays or another version, is judged by `due` itself
due_cases = Table(
    "due_cases", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("calendar", String(16), nullable=False),
    Column("digest", String(64)),
)

#: store-wide flags, e.g. 'sandbox' = 'true' for a training store that accepts a simulated clock
settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: every protocol version a case was opened under, whole, so a case is judged by its version even when the
#: files on disk have changed or are gone; each row is written with an entry on the 'definitions' chain
definitions = Table(
    "definitions", metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("lineage", Text, nullable=False),  # JSON list, base first
    Column("body", Text, nullable=False),  # the resolved definition's data, canonical JSON
    Column("kept_at", String(32), nullable=False),
    Index("ix_definitions_name", "name"),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chain", String(80), nullable=False),  # 'case:<id>' or 'staff'
    Column("seq", Integer, nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # open, move, refused, fact, allocate, staff
    Column("case_id", String(64)),
    Column("event", String(64)),
    Column("from_state", String(64)),
    Column("to_state", String(64)),
    Column("policy", String(64)),
    Column("policy_version", String(100)),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    #: who authenticated the action ('os-user:ana', 'database-login:ana', 'token:...'); hashed when present
    Column("principal", String(200)),
    UniqueConstraint("chain", "seq", name="uq_audit_chain_seq"),
)
