"""The root command group: global options, lazy workspace, and exit codes in one place.

Heavy libraries (SQLAlchemy, pydantic, transitions) are imported only when a command
needs the workspace, so ``casework --help`` stays fast.
"""
from __future__ import annotations

import gc
import json
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from casework.workflow.workspace import Casework

__all__ = ["Root", "State", "pass_state", "emit", "emit_json", "fail", "pause_collector"]

_collector_paused = False


def pause_collector() -> None:
    """Pause the cyclic garbage collector while a command imports its libraries.

    SQLAlchemy and pydantic create tens of thousands of long-lived objects at import;
    collecting them again and again costs a short command about a tenth of its time.
    The workspace resumes the collector once it is open (see :func:`_resume_collector`).
    """
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def _resume_collector() -> None:
    """Keep what start-up created out of later collections, and collect as usual from here on."""
    global _collector_paused
    if _collector_paused:
        gc.freeze()
        gc.enable()
        _collector_paused = False


class State:
    """Per-invocation settings; the workspace is opened on first use."""

    def __init__(self, db: str | None, machines: tuple[str, ...], clock: datetime | None = None):
        self.db = db
        self.machines = machines
        self.clock = clock
        self._cw: Casework | None = None

    @property
    def cw(self) -> Casework:
        if self._cw is None:
            from casework.workflow.workspace import open_casework
            fixed = self.clock
            self._cw = open_casework(self.db, self.machines, (lambda: fixed) if fixed else None,
                                     simulated=fixed is not None)
            _resume_collector()
        return self._cw


    def close(self) -> None:
        """Close the store's connections when the command ends, so SQLite folds its write-ahead log back into
        the file then, not whenever the interpreter gets round to it."""
        if self._cw is not None:
            self._cw.store.dispose()
            self._cw = None


pass_state = click.make_pass_decorator(State)


def emit_json(data: Any) -> None:
    """Stable JSON on stdout: sorted keys, two-space indent."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def emit(data: Any, as_json: bool, text: Callable[[], str]) -> None:
    """*data* as JSON for a program, or *text* for a person (made only when it is shown)."""
    if as_json:
        emit_json(data)
    else:
        click.echo(text())


def fail(message: str, code: int) -> None:
    """Print to stderr and leave with *code*."""
    click.echo(message, err=True)
    sys.exit(code)


class Root(click.Group):
    """Maps casework's exceptions to exit codes: 1 refused, 2 bad input, 3 conflict, 70 a bug of casework's."""

    def invoke(self, ctx: click.Context) -> Any:
        from casework.errors import EXIT_INTERNAL, CaseworkError, MissingArguments, Refused

        try:
            return super().invoke(ctx)
        except MissingArguments as exc:  # a usage error, with the verdict so a caller sees what is missing
            if ctx.meta.get("casework.json"):
                emit_json(exc.verdict.to_dict())
            fail(f"Error: {exc}", exc.exit_code)
        except Refused as exc:
            if ctx.meta.get("casework.json"):
                emit_json(exc.verdict.to_dict())
            fail(str(exc), exc.exit_code)
        except CaseworkError as exc:
            fail(f"Error: {exc}", exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except BrokenPipeError:  # the reader stopped early (`... | head`): not a failure of casework's
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so that flushing at exit does not raise again
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - anything else is a bug; it must not pass for a refusal
            if os.environ.get("CASEWORK_DEBUG"):
                raise
            fail(f"casework failed unexpectedly ({type(exc).__name__}: {exc}). This is a bug in casework: please "
                 f"report it with the command you ran (CASEWORK_DEBUG=1 shows the traceback). Every change to a "
                 f"case is committed whole or not at all; 'casework case show CASE' shows where it stands.",
                 EXIT_INTERNAL)


def machines_from_env() -> tuple[str, ...]:
    """CASEWORK_MACHINES: extra definition directories, separated like PATH."""
    value = os.environ.get("CASEWORK_MACHINES", "")
    return tuple(p for p in value.split(os.pathsep) if p)
