"""Where a protocol name leads: the shipped definitions, then a local authority's own directories.

The national baseline and every protocol shipped with casework are found only in the
package's own ``machines/`` directory: a file of the same name anywhere else is refused,
naming both files, so no directory on ``--machines`` (or beside a checked file) can stand
in for the baseline a local protocol is proven against. A local authority keeps its own
protocols in directories of its own, one file per protocol named after it, each extending
a shipped protocol or another of its own by name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from ..errors import DefinitionProblem, InvalidDefinition, UnknownPolicy

__all__ = ["Catalogue", "shipped_directory", "NATIONAL", "NAME_PATTERN", "VERSIONS"]

#: the baseline every other definition extends, directly or through a chain
NATIONAL = "national"
#: the directory beside a protocol's file that holds its earlier versions, as ``<name>@<version>.yaml``
VERSIONS = "versions"
#: a protocol name: also the file's name without ``.yaml``, and what ``extends`` takes
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


def shipped_directory() -> Path:
    """Where the project's own definitions live."""
    from casework.machines import DIRECTORY
    return DIRECTORY


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file()) if directory.is_dir() else []


class Catalogue:
    """The protocols on offer by name: shipped ones first and always, then local directories in order."""

    def __init__(self, directories: Sequence[Path | str] = ()):
        shipped = shipped_directory()
        self.shipped: dict[str, Path] = {p.stem: p for p in _yaml_files(shipped)}
        self.directories = [Path(d) for d in directories if Path(d).resolve() != shipped.resolve()]
        self._local: dict[str, Path] | None = None

    def _scan(self) -> dict[str, Path]:
        """Local files by name; a shipped name or a name in two directories is refused, naming both files."""
        if self._local is None:
            found: dict[str, Path] = {}
            problems = []
            for directory in self.directories:
                for file in _yaml_files(directory):
                    name = file.stem
                    if file.resolve() in {p.resolve() for p in found.values()}:
                        continue
                    if name in self.shipped:
                        problems.append(DefinitionProblem(
                            str(file), "", f"'{name}' is a protocol shipped with casework "
                                           f"({self.shipped[name]}); a file of that name cannot replace it",
                            f"rename the file and its 'name:' (e.g. {name}_local.yaml with "
                            f"'name: {name}_local') and start it with 'extends: {name}'", 1))
                    elif name in found:
                        problems.append(DefinitionProblem(
                            str(file), "", f"protocol '{name}' is also defined by {found[name]}; a name must "
                                           f"lead to one file", "remove or rename one of the two files", 1))
                    else:
                        found[name] = file
            if problems:
                raise InvalidDefinition(problems, stage="read")
            self._local = found
        return self._local

    def names(self) -> list[str]:
        """Every protocol on offer: shipped ones, then local ones in directory order."""
        return [*self.shipped, *self._scan()]

    def is_shipped(self, file: Path) -> bool:
        """Whether *file* is one of casework's own definition files (a protocol or an earlier version of one)."""
        return any(file.resolve() == p.resolve() for p in self.shipped.values()) or \
            file.resolve().parent == (shipped_directory() / VERSIONS).resolve()

    def earlier(self, name: str) -> list[Path]:
        """The files of *name*'s earlier versions: ``versions/<name>@<version>.yaml`` beside its file."""
        home = self.find(name).parent / VERSIONS
        return sorted(p for p in home.glob(f"{name}@*.yaml") if p.is_file()) if home.is_dir() else []

    def find(self, name: str) -> Path:
        """The one file that defines protocol *name*."""
        local = self._scan()  # a misconfigured directory is refused even when a shipped name is asked for
        if name in self.shipped:
            return self.shipped[name]
        if name not in local:  # a file added since the directories were read (a long-running service)
            self._local = None
            local = self._scan()
        if name not in local:
            raise UnknownPolicy(name, self.names())
        return local[name]

    def with_directory(self, directory: Path) -> "Catalogue":
        """The same catalogue, also looking in *directory* (a checked file's own folder) last."""
        return Catalogue([*self.directories, directory])

    def known(self) -> Iterable[str]:
        """Names to suggest for a misspelt one (never fails on a misconfigured directory)."""
        try:
            return self.names()
        except InvalidDefinition:
            return list(self.shipped)
