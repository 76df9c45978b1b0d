"""`casework audit ...`: verify the tamper-evident log, rebuild the tables from it, make signing keys, and sign
checkpoints."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .app import State, emit_json, pass_state
from .options import json_option
from .output import table

__all__ = ["audit"]

_KEY = click.option("--key", "key", type=click.Path(path_type=Path), envvar="CASEWORK_AUDIT_KEY", required=True,
                    help="The Ed25519 signing key (also CASEWORK_AUDIT_KEY); keep it outside the store.")


@click.group()
def audit() -> None:
    """Check the tamper-evident audit log, rebuild the tables from it; sign checkpoints an auditor keeps."""


@audit.command()
@click.option("--checkpoint", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Also prove every chain still holds what this signed checkpoint holds.")
@click.option("--public-key", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The public key the checkpoint must be signed with (else the one it carries).")
@click.option("--parts", type=click.IntRange(1, 64),
              help="Read a SQLite store in this many parts, one process each (default: one per core, up to four, "
                   "from 100,000 entries; 1 to use one core).")
@json_option
@pass_state
def verify(state: State, checkpoint: Path | None, public_key: Path | None, parts: int | None, as_json: bool) -> None:
    """Recompute every hash chain; exit 1 if any entry was changed or removed."""
    from casework.workflow import service
    from casework.workflow.checkpoints import read_checkpoint

    signed = read_checkpoint(checkpoint, public_key) if checkpoint else None
    report = service.verify_audit(state.cw, signed, parts=parts)
    if as_json:
        emit_json({"entries": report.entries, "ok": report.ok, "checkpoint": report.checkpoint,
                   "trusted_key": report.trusted_key, "broken": [b.__dict__ for b in report.broken]})
    elif report.ok:
        click.echo(f"Audit log intact: {report.entries} entries verified.")
        if report.checkpoint:
            key = "the public key given" if report.trusted_key else "the key the checkpoint carries"
            click.echo(f"Every chain holds what the checkpoint of {report.checkpoint} signed ({key}).")
        else:
            click.echo("Without a checkpoint this proves the chains are consistent, not that none was rewritten "
                       "whole, cut short or removed (see 'casework audit checkpoint').")
    for b in report.broken:
        click.echo(f"BROKEN chain {b.chain} at entry {b.seq}: {b.reason}", err=True)
    if not report.ok:
        sys.exit(1)


@audit.command()
@click.option("--dry-run", is_flag=True, help="Say what a rebuild would put right; write nothing.")
@json_option
@pass_state
def rebuild(state: State, dry_run: bool, as_json: bool) -> None:
    """Rebuild cases, staff, facts, allocations, holders, markers and settings from the audit chains.

    For a store whose tables were edited directly ('audit verify' names the rows): each table is
    emptied and refilled from the chains in one transaction. Refuses (exit 1, nothing written) if any
    chain does not verify, since a rebuild from a changed log would make the change look legitimate.
    A rebuild that puts rows right is recorded on the audit chain 'rebuild'. On PostgreSQL this is the
    owner's operation: connect as the role that ran 'casework init' (the application role may not
    delete facts or allocations, and is refused). Restart long-running services afterwards.
    """
    from casework.errors import AuditBroken
    from casework.workflow.rebuilding import REBUILD_CHAIN, rebuild_projections

    try:
        done = rebuild_projections(state.cw, dry_run)
    except AuditBroken as exc:
        if as_json:
            emit_json({"ok": False, "broken": [b.__dict__ for b in exc.broken]})
        raise
    if as_json:
        emit_json({"ok": True, "entries": done.entries, "written": done.written, "changed": done.changed,
                   "tables": done.tables, "found": list(done.found), "kept": done.kept})
        return
    counts = ["rows", "restored", "removed", "corrected"]
    click.echo(f"{done.entries} audit entries verified; {done.changed} rows "
               f"{'put right' if done.written else 'would be put right (dry run: nothing written)'}.")
    click.echo(table([[name, *(n[k] for k in counts)] for name, n in done.tables.items()], ["table", *counts]))
    for reason in done.found[:20]:
        click.echo(f"  {reason}")
    if len(done.found) > 20:
        click.echo(f"  ... and {len(done.found) - 20} more (--json lists them all)")
    if done.kept:
        click.echo("Kept as each row stored them, since no audit entry says them: "
                   + ", ".join(f"{table}.{column}" for table, columns in done.kept.items() for column in columns) + ".")
    if done.written and done.changed:
        click.echo(f"Recorded on the audit chain '{REBUILD_CHAIN}'. 'casework audit verify' now finds the tables "
                   "as the chains say.")


@audit.command()
@_KEY
def keygen(key: Path) -> None:
    """Make a new signing key at KEY (owner-only) and its public key at KEY.pub, for the auditor."""
    from casework.workflow.checkpoints import generate_key

    public = generate_key(key)
    click.echo(f"Signing key written to {key}; give the public key {public} to whoever verifies checkpoints.")


@audit.command()
@_KEY
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the signed checkpoint (JSON).")
@pass_state
def checkpoint(state: State, key: Path, output: Path) -> None:
    """Sign the head of every audit chain with KEY and write it to OUTPUT for an auditor to keep."""
    from casework.workflow.checkpoints import make_checkpoint

    doc = make_checkpoint(state.cw, key)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, output)
    body = doc["body"]
    click.echo(f"Checkpoint of {len(body['chains'])} chains ({body['entries']} entries) written to {output}.")


@audit.command()
@click.argument("case_id", metavar="[CASE]", required=False)
@json_option
@pass_state
def replay(state: State, case_id: str | None, as_json: bool) -> None:
    """Judge every recorded action of every case (or of CASE) again, under the protocol version, staff and facts
    of its moment; exit 1 if any would not have been allowed (the store or the engine is wrong)."""
    from casework.workflow.replay import replay as replay_log

    report = replay_log(state.cw, case_id)
    if as_json:
        emit_json(report.to_dict())
    else:
        scope = f"case {case_id}" if case_id else _count(report.cases, "case", "cases")
        found = _count(len(report.discrepancies), "discrepancy", "discrepancies")
        verdict = ("every one was allowed under the rules in force when it was made" if report.ok else
                   f"{found}: the store or the engine is wrong")
        click.echo(f"Replayed {_count(report.judged, 'action', 'actions')} of {scope} "
                   f"({_count(report.entries, 'audit entry', 'audit entries')} read; "
                   f"{_count(report.refused, 'refused attempt', 'refused attempts')} not judged again): {verdict}.")
    for discrepancy in report.discrepancies:
        click.echo(f"DISCREPANCY {discrepancy.message()}", err=True)
    if not report.ok:
        sys.exit(1)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
