"""Write a handbook as static HTML: Jinja2 templates shipped with the package, SVG diagrams beside them.

The pages use relative links, inline CSS and no script, so the directory opens from disk
in any browser with no server and no network. Nothing varies between runs (no
timestamps), so the same definition always gives the same files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from jinja2 import Environment, PackageLoader, StrictUndefined

from ..definition import Definition
from ..diagram import render_all
from .model import Handbook

__all__ = ["write_pages", "write_library", "DIAGRAMS"]

#: the diagrams each handbook shows: (file suffix, alt text)
DIAGRAMS = (("", "case path"), ("-allocation", "allocation"))


def _environment() -> Environment:
    return Environment(loader=PackageLoader("casework.workflow.handbook", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _write(directory: Path, file: str, text: str) -> Path:
    path = directory / file
    path.write_text(text, encoding="utf-8")
    return path


def write_pages(d: Definition, hb: Handbook, directory: Path) -> list[Path]:
    """The diagrams first (so a missing ``dot`` fails before any page is written), then every page."""
    directory.mkdir(parents=True, exist_ok=True)
    written = render_all([d], directory, formats=("svg",))
    env = _environment()
    diagrams = [(f"{d.name}{suffix}.svg", f"{what.capitalize()} diagram of {hb.title}") for suffix, what in DIAGRAMS]
    nav = [("index.html", "Contents"), *((p.file, p.title) for p in hb.pages), ("rules.html", "Rules")]
    if hb.roles:
        nav.insert(1, ("index.html#roles", "Roles"))
    if hb.changes is not None:
        nav.append(("comparison.html", f"Compared with {hb.baseline}"))
    common = {"hb": hb, "nav": nav}
    written.append(_write(directory, "index.html", env.get_template("index.html").render(
        **common, page_file="index.html", diagrams=diagrams)))
    section_page = env.get_template("sections.html")
    for page in hb.pages:
        written.append(_write(directory, page.file, section_page.render(**common, page=page, page_file=page.file)))
    role_page = env.get_template("role.html")
    for role in hb.roles:
        written.append(_write(directory, role.file, role_page.render(**common, role=role, page_file=role.file)))
    written.append(_write(directory, "rules.html", env.get_template("rules.html").render(
        **common, page_file="rules.html")))
    if hb.changes is not None:
        written.append(_write(directory, "comparison.html", env.get_template("comparison.html").render(
            **common, page_file="comparison.html")))
    return written


def write_library(handbooks: Iterable[Handbook], directory: Path) -> Path:
    """``index.html`` listing the handbooks written into ``<directory>/<name>/``."""
    page = _environment().get_template("library.html").render(handbooks=list(handbooks))
    return _write(directory, "index.html", page)
