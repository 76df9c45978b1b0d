"""Diagrams drawn from the same loaded definition the engine runs, rendered by graphviz ``dot``.

Two pictures per protocol: the case path (``protocol``: stages, moves, who and
what with rule IDs, optionally one case on it) and the allocation rules
(``allocation``). This module names the formats and runs ``dot``; the same
definition always gives the same bytes, so committed diagrams can be checked for staleness.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..definition import Definition
from .allocation import allocation_source
from .overlay import CaseOverlay
from .protocol import diagram_source
from ...errors import DiagramError

__all__ = ["diagram_source", "allocation_source", "render", "render_all", "CaseOverlay", "FORMATS"]

FORMATS = ("svg", "png", "pdf", "dot")


def render(d: Definition, fmt: str = "svg", compact: bool = False, overlay: CaseOverlay | None = None,
           allocation: bool = False) -> bytes:
    """Rendered bytes in *fmt* (the case path, or with *allocation* the hand-over rules)."""
    if fmt not in FORMATS:
        raise DiagramError(f"Unknown diagram format {fmt!r}; use one of: {', '.join(FORMATS)}.")
    source = allocation_source(d) if allocation else diagram_source(d, compact, overlay)
    if fmt == "dot":
        return source.encode()
    import graphviz

    try:
        return bytes(graphviz.Source(source).pipe(format=fmt))
    except graphviz.ExecutableNotFound:
        raise DiagramError("Graphviz 'dot' is not installed: run scripts/setup "
                           "(or apt-get install graphviz).") from None
    except graphviz.CalledProcessError as exc:
        raise DiagramError(f"Graphviz failed: {exc.stderr.decode(errors='replace').strip()}") from None


def render_all(definitions: Iterable[Definition], directory: Path | str,
               formats: tuple[str, ...] = ("svg", "png")) -> list[Path]:
    """Write ``<policy>[-allocation].<format>`` for every definition into *directory*; returns the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for d in definitions:
        for fmt in formats:
            for suffix, allocation in (("", False), ("-allocation", True)):
                path = out / f"{d.name}{suffix}.{fmt}"
                path.write_bytes(render(d, fmt, allocation=allocation))
                written.append(path)
    return written
