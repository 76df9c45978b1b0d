"""Where a value sits in a definition file, and how much of a file the reader accepts: shared by the file's
data (:mod:`.sources`) and its YAML reader (:mod:`.yaml_reading`), which import nothing of each other's."""
from __future__ import annotations

from typing import Any

__all__ = ["Key", "path_text", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "MAX_ALIASES", "MAX_NUMBER"]

#: largest definition file read (national.yaml, the largest shipped, is 15 KB)
MAX_BYTES = 256 * 1024
#: deepest nesting of lists and mappings (the shipped files nest 8 deep)
MAX_DEPTH = 64
#: most values in a file, an alias counted as a full copy of what it refers to
MAX_NODES = 100_000
#: most alias uses in a file (national.yaml uses about 60, the five shipped files 152)
MAX_ALIASES = 1_000
#: longest plain scalar read as a number: converting longer ones can take seconds
MAX_NUMBER = 64

Key = tuple[Any, ...]


def path_text(path: Key) -> str:
    """('events', 'x', 'requires', 1) → 'events.x.requires[1]'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
