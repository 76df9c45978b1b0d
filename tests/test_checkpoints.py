"""Anchored chains (issue 12): a signed checkpoint catches what hash chains alone cannot, on SQLite and PostgreSQL.

Each attack is made the way an insider with write access to the store would make it:
directly in the tables, recomputing hashes where that hides the change.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, select, update

from casework.cli.main import cli
from casework.store import audit as audit_log
from casework.store.schema import allocations, audit, cases, facts, holders, markers
from casework.workflow import projections, service
from casework.workflow.checkpoints import generate_key, make_checkpoint, read_checkpoint
from casework.errors import BadInput

from .helpers import add_standard_staff, case_in_cin_plan, rewrite_entry


@pytest.fixture
def signed(cw, tmp_path):
    """Two cases on a CIN plan, a signing key outside the store, and a checkpoint of that moment."""
    add_standard_staff(cw)
    case_in_cin_plan(cw, "C-1")
    case_in_cin_plan(cw, "C-2")
    key = tmp_path / "keys" / "audit.key"
    public = generate_key(key)
    point = tmp_path / "checkpoint.json"
    point.write_text(json.dumps(make_checkpoint(cw, key)))
    return cw, point, public


def _agree_tables_with_chain(cw, case_id: str) -> None:
    """Make the case's row, markers and due dates say what its (forged) chain says, as a careful forger would."""
    from casework.workflow import due_dates

    with cw.store.write() as conn:
        derived = projections.derive(audit_log.entries(conn, f"case:{case_id}"))
        conn.execute(update(cases).where(cases.c.id == case_id).values(**derived["cases"][case_id]))
        conn.execute(delete(markers).where(markers.c.case_id == case_id))
        conn.execute(insert(markers), [{"case_id": c, "marker": m, "at": at} for (c, m), at in derived["markers"].items()])
        due_dates.refresh_stored(conn, cw, case_id)


def _verify(cw, point: Path | None = None, public: Path | None = None):
    return service.verify_audit(cw, read_checkpoint(point, public) if point else None)


def test_an_untouched_store_matches_its_checkpoint_and_may_grow(signed):
    """Entries added after the checkpoint are fine: the signed ones are still there."""
    cw, point, public = signed
    service.move_case(cw, "C-1", "hold_cin_review", "sw")
    report = _verify(cw, point, public)
    assert report.ok and report.trusted_key and report.checkpoint


def test_a_rewritten_chain_with_recomputed_hashes_is_caught_only_with_a_checkpoint(signed):
    """A forger changes who allocated, recomputes the chain and edits the table to match: only a checkpoint sees it."""
    cw, point, public = signed
    rewrite_entry(cw, "case:C-1", 2, actor="sm")
    assert any("allocations" in b.reason for b in _verify(cw).broken)  # the table alone still tells
    with cw.store.write() as conn:
        conn.execute(update(allocations).where(allocations.c.case_id == "C-1").values(by_id="sm"))
    assert _verify(cw).ok  # the threat a checkpoint exists for
    report = _verify(cw, point, public)
    assert not report.ok and [(b.chain, "rewritten" in b.reason) for b in report.broken] == [("case:C-1", True)]


def test_a_cut_chain_with_its_version_lowered_is_caught(signed):
    """The last entry removed and the case's version lowered to match: caught as removed entries."""
    cw, point, public = signed
    with cw.store.write() as conn:
        last = conn.execute(select(audit.c.id).where(audit.c.chain == "case:C-2")
                            .order_by(audit.c.seq.desc()).limit(1)).scalar_one()
        conn.execute(delete(audit).where(audit.c.id == last))
    _agree_tables_with_chain(cw, "C-2")
    assert _verify(cw).ok
    [broken] = _verify(cw, point, public).broken
    assert broken.chain == "case:C-2" and "entries were removed" in broken.reason


def test_a_dropped_case_and_a_dropped_staff_chain_are_caught(signed):
    """A whole case (row, facts, markers, allocations, holders, chain) and the staff chain deleted: both reported gone.

    Without a checkpoint the case's disappearance is consistent; the staff chain's is not, since the staff
    rows it made are still there."""
    cw, point, public = signed
    with cw.store.write() as conn:
        for table in (facts, markers, allocations, holders):
            conn.execute(delete(table).where(table.c.case_id == "C-2"))
        conn.execute(delete(cases).where(cases.c.id == "C-2"))
        conn.execute(delete(audit).where(audit.c.chain.in_(["case:C-2", "staff"])))
    plain = _verify(cw).broken
    assert plain and all(b.chain == "staff" and "made by no audit entry" in b.reason for b in plain)
    gone = {b.chain for b in _verify(cw, point, public).broken if "whole chain is gone" in b.reason}
    assert gone == {"case:C-2", "staff"}


def test_a_changed_checkpoint_or_another_key_proves_nothing(signed, tmp_path):
    """A checkpoint edited after signing, or signed with a key other than the auditor's, is refused (exit 2)."""
    cw, point, public = signed
    doc = json.loads(point.read_text())
    doc["body"]["chains"]["case:C-1"]["seq"] = 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    with pytest.raises(BadInput, match="does not verify"):
        read_checkpoint(forged)
    other = generate_key(tmp_path / "other" / "k")
    with pytest.raises(BadInput, match="does not verify"):
        read_checkpoint(point, other)


def test_the_cli_signs_and_verifies_and_says_what_verify_proves(tmp_path):
    """keygen → checkpoint → verify --checkpoint through the real CLI; a rewrite then exits 1; keys never overwritten."""
    db, key = str(tmp_path / "cli.db"), tmp_path / "k" / "audit.key"
    run = lambda *args: CliRunner().invoke(cli, ["--db", db, *args])  # noqa: E731
    assert run("init").exit_code == 0
    assert run("staff", "add", "tm", "--name", "T", "--role", "team_manager", "--registered", "SW1").exit_code == 0
    assert run("case", "open", "K-1", "--policy", "national", "--team", "A", "--as", "tm").exit_code == 0
    assert run("audit", "keygen", "--key", str(key)).exit_code == 0
    assert (key.stat().st_mode & 0o777) == 0o600
    assert run("audit", "keygen", "--key", str(key)).exit_code == 2
    point = tmp_path / "cp.json"
    made = run("audit", "checkpoint", "--key", str(key), "-o", str(point))
    assert made.exit_code == 0 and "4 chains" in made.output
    plain = run("audit", "verify")
    assert plain.exit_code == 0 and "not that none was rewritten" in plain.output
    checked = run("audit", "verify", "--checkpoint", str(point), "--public-key", f"{key}.pub")
    assert checked.exit_code == 0 and "the public key given" in checked.output
    from casework.workflow.workspace import open_casework
    cw = open_casework(db)
    rewrite_entry(cw, "case:K-1", 1, actor="someone_else")
    cw.store.dispose()
    broken = run("audit", "verify", "--checkpoint", str(point), "--public-key", f"{key}.pub")
    assert broken.exit_code == 1 and "BROKEN chain case:K-1" in broken.output
