"""`casework init`, `demo`, `diagram` and `due`."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from .app import State, emit_json, pass_state
from .options import Day, json_option
from .output import case_text, due_text, history_text, verdict_text

__all__ = ["init", "demo", "diagram", "due"]


@click.command()
@click.option("--sandbox", is_flag=True, help="Make this new store a training sandbox (allows --clock).")
@click.option("--app-role", metavar="ROLE",
              help="PostgreSQL: the role the application connects as; it may add, never change or remove, audit "
                   "entries (created if missing).")
@click.option("--authentication", type=click.Choice(["declared", "login"]),
              help="How actors are authenticated: 'declared' (--as names them; a personal SQLite file) or 'login' "
                   "(the database login is the person; a shared store). New stores: login on PostgreSQL, "
                   "declared on SQLite.")
@click.option("--service-login", "service_logins", multiple=True, metavar="LOGIN",
              help="A database login of a service trusted to pass principals it verified (repeatable).")
@click.option("--staff-protocol", metavar="POLICY",
              help="The protocol whose staff: rules govern the staff list (default national).")
@pass_state
def init(state: State, sandbox: bool, app_role: str | None, authentication: str | None,
         service_logins: tuple[str, ...], staff_protocol: str | None) -> None:
    """Create or upgrade the store."""
    from casework.workflow import service

    revision = service.init_store(state.cw, sandbox, app_role, authentication=authentication,
                                  service_logins=service_logins, staff_protocol=staff_protocol)
    if app_role:
        click.echo(f"Role {app_role} may use casework on this store; it cannot change or remove audit entries.")
    kind = " (training sandbox)" if service.is_sandbox(state.cw) else ""
    click.echo(f"Store {state.cw.store}{kind} is at schema revision {revision}.")


@click.command()
@click.option("--team", default="Erewash", show_default=True)
@json_option
@pass_state
def demo(state: State, team: str, as_json: bool) -> None:
    """Seed demo staff and run a demo case through the national protocol."""
    from casework.workflow.demo import run_demo

    report = run_demo(state.cw, team)
    if as_json:
        emit_json({"case": report.case, "refused": report.refused.to_dict(), "history": report.history,
                   "can": [v.to_dict() for v in report.can]})
        return
    click.echo(f"Demo case {report.case_id} through the national protocol, store {state.cw.store}\n")
    click.echo("History (every action is audited and hash-chained):")
    click.echo(history_text(report.history))
    click.echo("\nThe refused move, as the community care worker saw it:")
    click.echo(report.refused.message())
    click.echo("\nWhere the case stands:")
    click.echo(case_text(report.case))
    click.echo("\nWhat sam may do next:")
    click.echo("\n".join(verdict_text(v) for v in report.can))


@click.command()
@click.argument("policy_name", metavar="POLICY", required=False)
@click.option("--all", "all_policies", is_flag=True,
              help="Every protocol into the -o directory, as SVG and PNG: the whole case path, its compact view, "
                   "its CIN and CP pages and the allocation rules.")
@click.option("-o", "--output", type=click.Path(), help="Write to this file (default stdout); a directory with --all.")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot"]), default=None,
              help="Output format (default: from the file name, else svg). PNG and PDF need -o or a redirect.")
@click.option("--compact", is_flag=True, help="Moves by title only, what the local protocol adds marked: a slide.")
@click.option("--page", type=click.Choice(["cin", "cp"]),
              help="Only the Child in Need or the child protection stages, with their own key: a slide.")
@click.option("--allocation", is_flag=True, help="Who may hold the case and how it changes hands.")
@click.option("--case", "case_id", metavar="CASE", help="Show where CASE stands and the path it took.")
@click.option("--as", "actor", metavar="STAFF", help="With --case: which exits are open to STAFF now.")
@pass_state
def diagram(state: State, policy_name: str | None, all_policies: bool, output: str | None, fmt: str | None,
            compact: bool, page: str | None, allocation: bool, case_id: str | None, actor: str | None) -> None:
    """Render POLICY (or --all) as a diagram with graphviz."""
    import time

    from casework.workflow.diagram import ALL_VIEWS, check_request, definition_for_case, render, write_diagrams

    if all_policies:
        if not output or policy_name or compact or page or allocation or case_id or actor:
            raise click.UsageError("--all takes only -o DIRECTORY (it writes every view of every protocol).")
        names, start = state.cw.policies.names(), time.monotonic()
        formats = ("svg", "png")
        files = write_diagrams((state.cw.policies.get(n) for n in names), output, formats, ALL_VIEWS)
        for number, path in enumerate(files, 1):  # as each is written: the first protocol's load takes a while
            click.echo(f"[{number}/{len(names) * len(ALL_VIEWS) * len(formats)}] Wrote {path}", err=True)
        click.echo(f"Wrote {len(names)} protocols' diagrams in {time.monotonic() - start:.1f} s.", err=True)
        return
    if not policy_name:
        raise click.UsageError("Name a POLICY, or use --all.")
    if fmt is None:
        suffix = Path(output).suffix.lstrip(".") if output else ""
        fmt = suffix if suffix in ("svg", "png", "pdf", "dot") else "svg"
    check_request(fmt, not output and sys.stdout.isatty(), compact, allocation, page, case_id, actor)
    definition, overlay = state.cw.policies.get(policy_name), None
    if case_id:
        from casework.workflow import service

        definition = definition_for_case(policy_name, state.cw.policies.versions_of(policy_name),
                                         service.show_case(state.cw, case_id))
        overlay = service.case_overlay(state.cw, case_id, actor)
    data = render(definition, fmt, compact, overlay, allocation, page)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"Wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)


@click.command()
@click.option("--as-of", type=Day(), help="The day to judge by (default today).")
@click.option("--overdue", is_flag=True, help="Only overdue items.")
@click.option("--within", type=int, metavar="DAYS",
              help="Only what is overdue or falls due within this many working days.")
@click.option("--team", help="Only cases of this team.")
@click.option("--staff", metavar="STAFF", help="Only cases this person holds (lead, supervisor or worker).")
@json_option
@pass_state
def due(state: State, as_of: date | None, overdue: bool, within: int | None, team: str | None, staff: str | None,
        as_json: bool) -> None:
    """What is due or overdue on open cases, most urgent first."""
    from casework.workflow.oversight import due_items

    items = due_items(state.cw, as_of, overdue_only=overdue, team=team, staff=staff, within=within)
    if as_json:
        emit_json([i.to_dict() for i in items])
        return
    click.echo(due_text(items))
