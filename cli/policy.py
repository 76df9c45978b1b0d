"""`casework policy ...`: list, show and check protocol definitions."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .app import State, emit, emit_json, pass_state
from .options import as_option, json_option
from .output import table
from .policy_text import policy_text

if TYPE_CHECKING:
    from casework.errors import DefinitionProblem
    from casework.workflow.refinement import Proof

__all__ = ["policy"]


@click.group()
def policy() -> None:
    """List, show and check protocol definitions."""


@policy.command("list")
@json_option
@pass_state
def list_(state: State, as_json: bool) -> None:
    """The protocols on offer."""
    from casework.workflow.policies import list_policies

    found = list_policies(state.cw)
    if as_json:
        emit_json([{"name": d.name, "version": d.version, "title": d.title, "extends": d.extends,
                    "files": list(d.files)} for d in found])
    else:
        click.echo(table([[d.name, d.version, d.extends or "-", d.title] for d in found],
                         ["policy", "version", "extends", "title"]))


@policy.command()
@click.argument("name", required=False)
@json_option
@pass_state
def versions(state: State, name: str | None, as_json: bool) -> None:
    """The versions of protocol NAME (or of every protocol) kept in the store, with the cases on each."""
    from casework.workflow.policies import policy_versions

    found = policy_versions(state.cw, name)
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("No version is kept yet: one is kept when the first case opens under it.")
        return
    click.echo(table([[v["name"], v["version"], v["digest"][:12], v["kept_at"][:10], "yes" if v["current"] else "-",
                       ", ".join(f"{s} {n}" for s, n in v["cases"].items()) or "-"] for v in found],
                     ["policy", "version", "digest", "first used", "current", "cases"]))


@policy.command()
@click.argument("name")
@click.option("--to", "to", required=True, metavar="VERSION", help="The version to move to (its number or digest).")
@click.option("--plan", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="YAML mapping renamed or removed states: 'states: {old: new}'.")
@click.option("--case", "case_ids", multiple=True, metavar="CASE", help="Only these cases (repeatable).")
@click.option("--dry-run", is_flag=True, help="Say what would change for each case; write nothing.")
@as_option
@json_option
@pass_state
def migrate(state: State, name: str, to: str, plan: Path | None, case_ids: tuple[str, ...], dry_run: bool,
            actor: str, as_json: bool) -> None:
    """Move the open cases of protocol NAME onto version --to; exit 1 if any case is refused (it keeps its version)."""
    from casework.workflow import service
    from casework.workflow.migration import read_plan

    found = service.migrate_cases(state.cw, name, to, actor, plan=read_plan(plan), dry_run=dry_run,
                                  case_ids=case_ids or None)
    if as_json:
        emit_json({"dry_run": dry_run, "cases": [m.to_dict() for m in found]})
    else:
        if not found:
            click.echo(f"No open case of {name} is on another version.")
        for m in found:
            what = "would move" if dry_run else ("moved" if m.allowed else "refused")
            shift = f", {m.from_state} -> {m.to_state}" if m.to_state != m.from_state else ""
            line = f"{m.case_id}: {what} {m.from_version} -> {m.to_version}{shift}"
            if m.started or m.stopped:
                line += f"; deadlines started: {', '.join(m.started) or '-'}, stopped: {', '.join(m.stopped) or '-'}"
            click.echo(line)
            for u in m.verdict.unmet:
                click.echo(f"  - {u.line()}")
    if any(not m.allowed for m in found):
        sys.exit(1)


@policy.command()
@click.argument("name", metavar="NAME|FILE")
@json_option
@pass_state
def show(state: State, name: str, as_json: bool) -> None:
    """The resolved definition NAME, or of a definition FILE (after extends): states, moves, facts, allocation,
    deadlines, closure reasons and rules."""
    from casework.workflow.policies import definition_json, show_policy

    d = show_policy(state.cw, name)
    emit(definition_json(d), as_json, lambda: policy_text(d))


@policy.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@json_option
@pass_state
def check(state: State, files: tuple[str, ...], as_json: bool) -> None:
    """Check definition FILES against the national floor: exit 0 when every one refines national, else 2.

    A clean file prints its refinement proof (national actions compared, situations explored);
    a file that could let someone do what national refuses prints where, and a counterexample.
    """
    from casework.workflow.policies import check_policy

    results = check_policy(state.cw, files)
    if as_json:
        emit_json([{"file": r.file, "name": r.name, "ok": r.stage is None, "stage": r.stage,
                    "problems": [_problem_json(p) for p in r.problems],
                    "notes": [_problem_json(p) for p in r.notes],
                    "proof": _proof_json(r.proof)} for r in results])
    else:
        for r in results:
            if r.stage is None:
                click.echo(f"ok  {r.file}: {r.summary}")
                for p in r.notes:
                    click.echo(f"  note: {p}")
            else:
                for p in r.problems:
                    click.echo(str(p), err=True)
    sys.exit(max(r.exit_code for r in results))


def _problem_json(p: DefinitionProblem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "path": p.path, "problem": p.problem, "fix": p.fix}


def _proof_json(proof: Proof | None) -> dict[str, Any] | None:
    if proof is None:
        return None
    return {"refines": "national", "baseline": proof.baseline, "actions": proof.actions,
            "identical": proof.identical, "situations": proof.situations, "cached": proof.cached}


@policy.command()
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@json_option
@pass_state
def diff(state: State, first: str, second: str, as_json: bool) -> None:
    """Who may do what, and what must hold first, in A and not in B, and the reverse (each a protocol's name or a
    definition file, as `policy check` takes)."""
    from casework.workflow.policies import show_policy
    from casework.workflow.policy_diff import diff_policies

    a, b = show_policy(state.cw, first), show_policy(state.cw, second)
    found = diff_policies(a, b)
    if as_json:
        emit_json({"a": first, "b": second, "differences": [d.to_dict() for d in found]})
        return
    if not found:
        click.echo(f"{first} and {second} differ in nothing of who may do what or what must hold first "
                   f"(`policy show` lists everything else: deadlines, closure reasons, the staff rules).")
    areas = {"event": "Move", "allocation": "Allocation", "fact": "Record", "deadline": "Timescale", "state": "Stage"}
    for d in found:
        click.echo(f"{areas.get(d.area, d.area)}: {d.title[:1].upper()}{d.title[1:]}"
                   + (f"  [{d.name}]" if d.area != "allocation" else ""))
        for line in d.only_in_a:
            click.echo(f"  only in {first}: {line}")
        for line in d.only_in_b:
            click.echo(f"  only in {second}: {line}")


@policy.command()
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the schema to FILE instead of standard output.")
def schema(output: Path | None) -> None:
    """The JSON Schema of a protocol definition file, for editors that validate YAML as you type.

    Generated from what the loader enforces: every requirement kind in its compact forms, every
    setting of states, events, facts, allocation and deadlines, and the role identifiers.
    """
    import json

    from casework.workflow.reference import definition_schema

    text = json.dumps(definition_schema(), indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.", err=True)
