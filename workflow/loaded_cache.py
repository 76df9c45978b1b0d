"""Loaded definitions kept between commands, so a command does not validate YAML it validated before.

Reading, merging, validating, holding to the national floor and proving a protocol costs a
CLI call more than the rest of its work (importing pydantic and building its validators alone
take about 0.15 s; a definition read from here is plain dataclasses, and pydantic is not
imported). A definition that loaded cleanly is therefore kept whole (pickled, with what it was
merged from and its proof) in the user's cache directory, under a key made of every
definition file the catalogue could read (paths and contents) and of the casework code
and library versions that loaded it: editing, adding or removing any file, or upgrading
casework, loads afresh. A file that fails to load is never kept, so its errors are always
reported from the file itself.

The cache is the user's own, as the refinement proofs beside it are: a file is read only if
the user owns it and nobody else may write it, and a file that does not unpickle is ignored.
``CASEWORK_CACHE_DIR`` moves it; deleting it only costs the next command the load.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

from .catalogue import VERSIONS, Catalogue, shipped_directory
from .user_cache import cache_directory

__all__ = ["LoadedCache"]

T = TypeVar("T")
_FOLDER = "definitions"
#: entries kept; the oldest go first (each edit of a local file leaves one behind)
_KEEP = 200
_CODE: str | None = None


def _code_key() -> str:
    """Identifies the casework code and libraries that load definitions, without reading them: paths, sizes
    and times of casework's own modules, the version of Python and the installed pydantic's version file
    (found, not imported: a command that reads its definitions from here never imports pydantic)."""
    global _CODE
    if _CODE is None:
        package = Path(__file__).resolve().parent
        parts = [sys.version, _pydantic_version()]
        for file in sorted(package.rglob("*.py")):
            st = file.stat()
            parts.append(f"{file.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}")
        _CODE = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return _CODE


def _pydantic_version() -> str:
    spec = importlib.util.find_spec("pydantic")
    if spec is None or spec.origin is None:
        return ""
    try:
        return (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    except OSError:
        return ""


def _catalogue_files(catalogue: Catalogue) -> list[Path]:
    """Every definition file the catalogue could read: shipped ones, local ones and their earlier versions."""
    folders = [shipped_directory(), *catalogue.directories]
    files: list[Path] = []
    for folder in folders:
        for pattern in ("*.yaml", f"{VERSIONS}/*.yaml"):
            files.extend(sorted(p for p in folder.glob(pattern) if p.is_file()))
    return files


class LoadedCache:
    """The loaded definitions of one catalogue, kept on disk between processes (see the module docstring)."""

    def __init__(self, catalogue: Catalogue):
        self._catalogue = catalogue
        self._key: str | None = None
        directory = cache_directory()
        self._folder = directory / _FOLDER if directory is not None else None

    def _catalogue_key(self) -> str | None:
        if self._key is None:
            digest = hashlib.sha256(_code_key().encode())
            try:
                for file in _catalogue_files(self._catalogue):
                    digest.update(f"\0{file.resolve()}\0".encode())
                    digest.update(file.read_bytes())
            except OSError:
                return None  # a file that cannot be read is reported by the load itself
            self._key = digest.hexdigest()
        return self._key

    def _path(self, file: Path) -> Path | None:
        key = self._catalogue_key()
        if self._folder is None or key is None:
            return None
        name = hashlib.sha256(f"{key}\0{file.resolve()}".encode()).hexdigest()
        return self._folder / f"{name}.pickle"

    def get(self, file: Path, load: Callable[[], T]) -> T:
        """What *load* returns for *file*: from the cache when this catalogue and code loaded it before."""
        path = self._path(file)
        if path is not None:
            found = _read(path)
            if found is not None:
                return found  # type: ignore[no-any-return]
        loaded = load()
        if path is not None:
            _write(path, loaded)
        return loaded


def _read(path: Path) -> Any:
    try:
        st = path.stat()
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None  # not the user's own, or writable by others: never unpickled
        with path.open("rb") as file:
            return pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a damaged or stale entry is a miss, whatever unpickling raised
        return None


def _write(path: Path, value: Any) -> None:
    """Replace the entry atomically (a concurrent reader sees the old file or the new one), owner-only."""
    import tempfile  # only on a miss

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".loaded-", suffix=".pickle")
        with os.fdopen(fd, "wb") as out:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        _prune(path.parent)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return  # a cache that cannot be written only costs the next command the load


def _prune(folder: Path) -> None:
    entries = list(folder.glob("*.pickle"))
    if len(entries) <= _KEEP:
        return
    for old in sorted(entries, key=lambda p: p.stat().st_mtime)[:len(entries) - _KEEP]:
        old.unlink(missing_ok=True)
