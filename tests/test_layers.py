"""The layers read one way: errors at the bottom, the store below the engine, the CLI on top.

Read statically from the source (every import, function-level ones too, except those only a
type checker sees), so a shortcut that works today but tangles the layers fails here:
an import cycle, the store reaching into the engine, the engine into click or SQLAlchemy,
or the CLI into the engine's internals instead of its public modules.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"casework.workflow": ROOT / "workflow", "casework.store": ROOT / "store", "casework.cli": ROOT / "cli",
           "casework.machines": ROOT / "machines"}
#: modules of the engine the CLI must not reach into: it calls the service, and the diagram, handbook and
#: refinement packages by their front doors (their __init__), never the modules inside them
INTERNALS = ("casework.workflow.loader", "casework.workflow.sources", "casework.workflow.merging",
             "casework.workflow.floor", "casework.workflow.requirements", "casework.workflow.diagram.",
             "casework.workflow.handbook.", "casework.workflow.refinement.", "casework.workflow.engine")


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {"casework": (ROOT / "casework" / "__init__.py", True),
             "casework.errors": (ROOT / "casework" / "errors.py", False)}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            if "versions" in path.parts and "migrations" in path.parts:
                continue
            parts = [p for p in path.relative_to(folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = (path, path.name == "__init__.py")
    return found


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import of *name* outside `if TYPE_CHECKING:`."""
    path, is_package = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
              for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.append((full, None, node.lineno) if full in MODULES else (module, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, None, node.lineno) for alias in node.names)
    return found


def _ours(name: str) -> set[str]:
    return {module for module, _n, _l in _imports(name) if module in MODULES and module != name}


def test_the_import_graph_of_casework_has_no_cycle():
    graph = {name: _ours(name) for name in MODULES}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != 1, "import cycle: " + " → ".join([*path, node, nxt][path.index(nxt):]
                                                                       if nxt in path else [*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_errors_import_nothing_of_ours_and_the_store_nothing_of_the_engine():
    assert _ours("casework.errors") == set()
    for name in MODULES:
        if name.startswith("casework.store"):
            assert not {m for m in _ours(name) if m.startswith(("casework.workflow", "casework.cli"))}, name


def test_the_engine_imports_neither_click_nor_sqlalchemy_nor_the_cli():
    for name in MODULES:
        if name.startswith("casework.workflow"):
            for module, _n, line in _imports(name):
                assert not module.startswith(("click", "sqlalchemy", "alembic", "casework.cli")), (name, line, module)


def test_the_cli_uses_only_the_public_names_of_the_engines_public_modules():
    for name in MODULES:
        if not name.startswith("casework.cli"):
            continue
        for module, imported, line in _imports(name):
            if not module.startswith("casework.workflow"):
                continue
            assert not module.startswith(INTERNALS) and module != "casework.workflow.requirements", \
                (name, line, module)
            if imported is not None:
                assert imported in importlib.import_module(module).__all__, (name, line, module, imported)
