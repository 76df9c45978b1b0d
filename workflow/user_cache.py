"""The per-user cache directory: results worth keeping between commands, always safe to delete."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_directory"]


def cache_directory() -> Path | None:
    """``CASEWORK_CACHE_DIR``, else the platform's cache directory for casework; None if none can be named."""
    configured = os.environ.get("CASEWORK_CACHE_DIR")
    if configured:
        return Path(configured)
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    return Path(platformdirs.user_cache_dir("casework", appauthor=False))
