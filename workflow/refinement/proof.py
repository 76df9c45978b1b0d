"""The refinement proof of a local protocol: what was compared with national, and any counterexample.

A passed proof is kept in the user's cache under the definition's digest, national's
digest and the search's version, so only the first use of a changed file pays for the
search (:mod:`.compare`); every other command reads the proof back.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, replace

from ..definition import Definition
from ..user_cache import cache_directory
from .outcome import Counterexample, Proof

__all__ = ["Proof", "Counterexample", "prove", "baseline_proof", "SEARCH_VERSION"]

#: bump whenever the search or the floor changes what it accepts, so cached proofs are redone
SEARCH_VERSION = 3

def baseline_proof(definition: Definition) -> Proof:
    """National is the floor itself."""
    return Proof(definition.name, definition.digest, baseline=True)


# the cache ----------------------------------------------------------------------------------------

_MEMO: dict[str, Proof] = {}


def _key(national: Definition, local: Definition) -> str:
    return f"{local.digest}-{national.digest[:16]}-v{SEARCH_VERSION}"


def _cached(key: str) -> Proof | None:
    if key in _MEMO:
        return _MEMO[key]
    directory = cache_directory()
    if directory is None:
        return None
    try:
        data = json.loads((directory / "proofs" / f"{key}.json").read_text(encoding="utf-8"))
        proof = Proof(data["protocol"], data["digest"], int(data["actions"]), int(data["identical"]),
                      int(data["situations"]), notes=tuple(data.get("notes", ())), cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _MEMO[key] = proof
    return proof


def _keep(key: str, proof: Proof) -> None:
    _MEMO[key] = replace(proof, cached=True)
    directory = cache_directory()
    if directory is None:
        return
    import tempfile  # only when a proof is new: every command reads proofs, few write one

    body = {k: v for k, v in asdict(proof).items() if k not in ("counterexamples", "cached", "baseline")}
    try:
        folder = directory / "proofs"
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".proof-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        return  # a cache that cannot be written only costs the next command the search


def prove(national: Definition, local: Definition, effort: float = 1.0, use_cache: bool = True,
          seed: int | None = None) -> Proof:
    """Search for any situation where *local* allows what *national* refuses; reuse a passed proof.

    The search is deterministic (seeded by the digest); *seed* and *effort* let a test run an
    independent, longer search over the same definition.
    """
    key = _key(national, local)
    if use_cache and (cached := _cached(key)) is not None:
        return cached
    from .compare import search  # the search's modules load on a cache miss only: every command reads proofs

    proof = search(national, local, effort, seed)
    if proof.ok and use_cache:
        _keep(key, proof)
    return proof
