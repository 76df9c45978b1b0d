"""Anchored chains: signed checkpoints of every audit chain's head, kept outside the store.

Hash chains show that an entry was changed, but someone who can write the store can also
recompute every hash after the change, remove a chain's last entries and lower the case's
version, or drop a case or the staff chain whole; the chains then verify again. A
checkpoint is the heads of all chains at a moment, signed with an Ed25519 key that does
not live in the store. Kept by an auditor, it lets ``audit verify --checkpoint`` prove
that every entry it covers is still there, unchanged.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casework.store import audit

from .clock import to_text
from ..errors import BadInput
from .workspace import Casework

__all__ = ["generate_key", "make_checkpoint", "read_checkpoint", "check_against", "Checkpoint", "CHECKPOINT_FORMAT"]

#: the format written in every checkpoint, so a later casework can read older ones
CHECKPOINT_FORMAT = "casework-checkpoint/1"


def _crypto() -> tuple[Any, Any, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    return serialization, Ed25519PrivateKey, Ed25519PublicKey


def generate_key(path: Path) -> Path:
    """Write a new private key to *path* (readable by its owner only) and its public key beside it (``.pub``)."""
    serialization, private_cls, _ = _crypto()
    if path.exists():
        raise BadInput(f"{path} already exists; a signing key is never overwritten.")
    key = private_cls.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = path.with_suffix(path.suffix + ".pub")
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return public


def _load_private(path: Path) -> Any:
    serialization, private_cls, _ = _crypto()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise BadInput(f"Cannot read the signing key {path}: {exc}") from None
    if not isinstance(key, private_cls):
        raise BadInput(f"{path} is not an Ed25519 private key (make one with 'casework audit keygen').")
    return key


def _load_public(data: bytes, where: str) -> Any:
    serialization, _, public_cls = _crypto()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"Cannot read the public key {where}: {exc}") from None
    if not isinstance(key, public_cls):
        raise BadInput(f"{where} is not an Ed25519 public key.")
    return key


def _body_bytes(body: dict[str, Any]) -> bytes:
    return audit.canonical(body).encode()


def make_checkpoint(cw: Casework, key_path: Path) -> dict[str, Any]:
    """The signed heads of every chain of the store, as a JSON-ready document."""
    serialization, _, _ = _crypto()
    key = _load_private(key_path)
    with cw.store.read() as conn:
        heads = audit.heads(conn)
    body = {"format": CHECKPOINT_FORMAT, "store": str(cw.store), "taken_at": to_text(cw.clock()),
            "chains": {chain: {"seq": seq, "hash": digest} for chain, (seq, digest) in sorted(heads.items())},
            "entries": sum(seq for seq, _ in heads.values())}
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"body": body, "signature": base64.b64encode(key.sign(_body_bytes(body))).decode(),
            "public_key": public.decode()}


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose signature verified, and which key made it."""

    body: dict[str, Any]
    #: True when verified with a public key the auditor supplied, not the one the file carries
    trusted_key: bool


def read_checkpoint(path: Path, public_key: Path | None = None) -> Checkpoint:
    """Read a checkpoint and verify its signature (with *public_key* if given, else the key it carries)."""
    from cryptography.exceptions import InvalidSignature

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        body, signature = doc["body"], base64.b64decode(doc["signature"], validate=True)
        carried = doc["public_key"].encode()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path} is not a casework checkpoint: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != CHECKPOINT_FORMAT:
        raise BadInput(f"{path} is not a casework checkpoint ({CHECKPOINT_FORMAT}).")
    key = (_load_public(public_key.read_bytes(), str(public_key)) if public_key is not None
           else _load_public(carried, str(path)))
    try:
        key.verify(signature, _body_bytes(body))
    except InvalidSignature:
        raise BadInput(f"The checkpoint {path} does not verify: it was changed after signing, or signed with "
                       f"another key. Nothing about the store can be concluded from it.") from None
    return Checkpoint(body, public_key is not None)


def check_against(cw: Casework, checkpoint: Checkpoint) -> list[audit.Broken]:
    """Every chain the checkpoint covers must still hold its signed entry, with the signed hash."""
    chains: dict[str, dict[str, Any]] = checkpoint.body["chains"]
    wanted = [(chain, int(head["seq"])) for chain, head in chains.items()]
    with cw.store.read() as conn:
        found = audit.hash_at(conn, wanted)
        now = audit.heads(conn)
    broken = []
    taken = checkpoint.body.get("taken_at", "the checkpoint")
    for chain, seq in wanted:
        if chain not in now:
            broken.append(audit.Broken(chain, seq, None, f"the whole chain is gone (it had {seq} entries at {taken})"))
        elif (chain, seq) not in found:
            broken.append(audit.Broken(chain, seq, None, f"entries were removed: the chain ends at entry "
                                                         f"{now[chain][0]}, but held entry {seq} at {taken}"))
        elif found[(chain, seq)] != chains[chain]["hash"]:
            broken.append(audit.Broken(chain, seq, None, f"entry {seq} is not the one signed at {taken}: the chain "
                                                         f"was rewritten (its hashes recomputed)"))
    return broken
