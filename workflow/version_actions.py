"""Moving live cases to another version of their protocol (``casework policy migrate``).

Each case is judged (workflow.migration) and, unless this is a dry run, written in a unit of
work of its own: the case row names the new version, its state is mapped, and one
``migrate`` entry on its chain says from which version to which. A refused case writes
only its audited attempt and keeps its version; the others go ahead.
"""
from __future__ import annotations

from typing import Sequence

from casework.store import audit, records

from . import due_dates, identity, versions
from .clock import to_text
from .definition import Definition
from ..errors import BadInput, CaseworkError
from .hydrate import load_case_and_actor
from .migration import CaseMigration, MigrationPlan, judge_migration
from .units import unit_of_work, when
from .workspace import Casework

__all__ = ["migrate_cases", "target_version"]


def target_version(cw: Casework, policy: str, wanted: str) -> Definition:
    """The version of *policy* called *wanted* (its version, or the start of its digest), from the files on
    offer (the current one or an earlier one in versions/): a case moves only onto a version the loader has
    checked against the national floor, never onto one found only in the store."""
    for d in cw.policies.versions_of(policy):
        if wanted in (d.version, d.digest) or (len(wanted) >= 6 and d.digest.startswith(wanted)):
            return d
    raise BadInput(f"No version {wanted!r} of {policy!r} is in the files on offer: a case is migrated onto a "
                   f"version its file (or versions/{policy}@<version>.yaml) holds.")


def migrate_cases(cw: Casework, policy: str, to: str, actor: str, *, plan: MigrationPlan | None = None,
                  dry_run: bool = False, case_ids: Sequence[str] | None = None) -> list[CaseMigration]:
    """Move every open case of *policy* not yet on version *to* (or only *case_ids*) onto it, each judged first.

    With *dry_run* nothing is written: the result says, case by case, what would change and what stands in
    the way. Otherwise each case is written in its own unit of work; refused ones keep their version."""
    target = target_version(cw, policy, to)
    with cw.store.read() as conn:
        candidates = [c["id"] for c in records.list_cases(conn)
                      if c["policy"] == policy and c["policy_digest"] != target.digest
                      and (case_ids is None or c["id"] in case_ids)]
    if case_ids is not None and set(case_ids) - set(candidates):
        missing = sorted(set(case_ids) - set(candidates))
        raise BadInput(f"Not a case of {policy!r} on another version: {', '.join(missing)}.")
    found = [_one(cw, case_id, target, plan or MigrationPlan(), actor, dry_run) for case_id in candidates]
    return [m for m in found if m is not None]


@unit_of_work
def _one(cw: Casework, case_id: str, target: Definition, plan: MigrationPlan, actor: str,
         dry_run: bool) -> CaseMigration | None:
    """Judge one case and, unless *dry_run*, write its migration or its refused attempt (None: a closed case)."""
    _, now = when(cw, None)
    unit = cw.store.read() if dry_run else cw.store.write()
    with unit as conn:
        case, person, head, mode = load_case_and_actor(conn, case_id, actor, cw.snapshots, lock=not dry_run)
        principal = identity.authenticate(conn, actor, cw.principal, mode)
        try:
            source = cw.versions.of(conn, case.policy, case.policy_digest)
        except CaseworkError:
            source = None
        if source is not None and case.state in source.states and not source.states[case.state].open:
            return None  # a closed case keeps the version it closed under
        result = judge_migration(case, source or target, target, plan, person, now)
        if dry_run:
            return result
        entry = {"recorded_at": to_text(now), "at": to_text(now), "actor": actor, "principal": principal,
                 "case_id": case.id, "event": "migrate", "from_state": case.state, "to_state": result.to_state,
                 "policy": case.policy, "policy_version": f"{target.version}@{target.digest[:12]}"}
        payload = {"from": case.policy_digest, "to": target.digest, **plan.to_payload(),
                   **({"state": {case.state: result.to_state}} if result.to_state != case.state else {})}
        if not result.allowed:
            audit.append(conn, f"case:{case.id}", head, **entry, action="refused",
                         payload={**payload, "verdict": result.verdict.to_dict()})
            return result
        versions.keep(conn, target, actor, principal, to_text(now))
        records.update_case(conn, case.id, case.version, {
            "policy_digest": target.digest, "state": result.to_state, "version": case.version + 1,
            "updated_at": to_text(now)})
        if result.to_state != case.state:
            entered = case.markers.get(f"entered:{case.state}") or case.state_entered_at or now
            records.set_markers(conn, case.id, {f"entered:{result.to_state}": to_text(entered)})
        records.rename_facts(conn, case.id, plan.facts)
        records.set_markers(conn, case.id, {k: to_text(v) for k, v in plan.renamed_markers(case.markers).items()})
        audit.append(conn, f"case:{case.id}", head, **entry, action="migrate", payload=payload)
        due_dates.refresh_stored(conn, cw, case.id)
    return result
