"""Binding a SISA model's files to its ledger, and verifying the whole model directory.

``state.json`` lists the SHA-256 of every file the model uses (estimator, shard data,
checkpoints); ``model_sha256`` is the hash of that list. Every ledger entry (train, forget,
retrain) and every certificate records ``model_sha256`` and the manifest's SHA-256 after the
event, so restoring a pre-forget checkpoint or re-adding a record to the manifest no longer
matches the ledger's last entry, even when ``state.json`` is edited to agree.

:func:`verify_model` checks, in order: no interrupted forget, the ledger chain and its head,
the signing key pinned by the ledger's first entry (and the caller's key), the manifest and the
model files against the last entry, one certificate per forget entry and no other, each
signed by the pinned key and naming its entry, and no tombstoned record in the manifest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from probity.errors import TamperedError
from probity.types import Certificate
from probity.unlearning import ledger as L
from probity.unlearning.manifests import ManifestEntry, is_tombstoned, sha256_hex, tombstones


def file_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_files(state: dict[str, Any]) -> list[str]:
    """Relative paths of every file the state uses (besides the manifest)."""
    from probity.unlearning.shards import ckpt_rel

    out = ["estimator.pkl"]
    for s, sh in enumerate(state["shards"]):
        out.append(sh["data"])
        keys = sh["checkpoints"]
        for r, k in enumerate(keys):
            if k is not None:
                out.append(ckpt_rel(s, r, k))
    return out


def model_digest(files: dict[str, str]) -> str:
    """``model_sha256``: SHA-256 over the sorted (path, SHA-256) list."""
    return sha256_hex(L.canonical(sorted(files.items())))


def _pinned_key(entries: list[dict[str, Any]], public_key: str | None) -> str | None:
    first = entries[0] if entries else {}
    pin = first.get("public_key")
    if public_key is not None:
        from probity.signing.documents import public_key_hex

        given = public_key_hex(public_key)
        if pin is not None and pin.lower() != given:
            raise TamperedError(
                "the ledger's signing key is not the pinned public key (the ledger was rewritten "
                "or the model was trained with another key)"
            )
        pin = given
    return pin


def verify_model(
    root: Path,
    state: dict[str, Any],
    manifest: dict[str, ManifestEntry],
    *,
    public_key: str | None = None,
) -> dict[str, Any]:
    """Verify a SISA model directory; raise :class:`TamperedError` on the first problem."""
    from probity.unlearning.wal import check_clean

    check_clean(root)
    out = L.verify_ledger(root / "ledger.jsonl", head=state["ledger_head"])
    entries = L.read_ledger(root / "ledger.jsonl")
    if not entries or entries[0].get("event") != "train":
        raise TamperedError(f"{root}/ledger.jsonl: the first entry is not the training entry")
    pin = _pinned_key(entries, public_key)
    last = entries[-1]
    want_manifest = last.get("manifest_after") or last.get("manifest_sha256")
    if want_manifest != state["manifest"]["sha256"]:
        raise TamperedError(
            f"the manifest ({state['manifest']['file']}) is not the one the ledger's last entry "
            "recorded (records were added or removed outside a forget)"
        )
    if "model_sha256" in last:
        files = state.get("files", {})
        for rel in model_files(state):
            p = root / rel
            what = "checkpoint" if rel.startswith("checkpoints/") else "model file"
            if not p.exists():
                raise TamperedError(f"{what} {rel} is missing (checkpoints were replaced)")
            if files.get(rel) != file_sha256(p):
                raise TamperedError(
                    f"{what} {rel} does not match its recorded SHA-256 (a checkpoint was "
                    "restored or edited)"
                )
        if set(files) != set(model_files(state)) or model_digest(files) != last["model_sha256"]:
            raise TamperedError(
                "the model's checkpoint list does not match the ledger's last entry (a "
                "pre-forget checkpoint was restored)"
            )
    forgets = {e["request_id"]: e for e in entries if e.get("event") == "forget"}
    cert_dir = root / "certificates"
    found = {p.stem: p for p in cert_dir.glob("*.json")} if cert_dir.exists() else {}
    for rid in forgets:
        if rid not in found:
            raise TamperedError(f"the certificate of forget {rid} is missing (deleted)")
    extra = sorted(set(found) - set(forgets))
    if extra:
        raise TamperedError(
            f"certificate {extra[0]} is not in the ledger (its ledger entry was dropped)"
        )
    if int(state.get("forget_requests", 0)) != len(forgets):
        raise TamperedError(
            f"state.json counts {state.get('forget_requests')} forgets but the ledger has "
            f"{len(forgets)} (an entry was dropped or added)"
        )
    for rid, entry in forgets.items():
        cert = Certificate.from_dict(json.loads(found[rid].read_text("utf-8")))
        if pin is None:
            pin = cert.public_key  # a model trained before keys were pinned: all must agree
        from probity.signing.documents import verify_signature

        try:
            verify_signature(cert, pin)
        except TamperedError as exc:
            raise TamperedError(
                f"certificate {rid}: {exc} (signing key not the model's key)"
            ) from exc
        if cert.claims.get("ledger_entry") != entry["hash"] or cert.claims.get("request_id") != rid:
            raise TamperedError(f"certificate {rid} does not name its ledger entry")
    salt = state.get("salt")
    if salt:
        stones = tombstones(entries)
        for e in manifest.values():
            if is_tombstoned(salt, stones, e):
                raise TamperedError(f"the manifest lists a forgotten record again ({e.id!r})")
    return {**out, "certificates": len(forgets), "public_key": pin}


def certificate_in_ledger(model_dir: str | os.PathLike[str], cert: Certificate) -> None:
    """Raise :class:`TamperedError` unless ``cert`` is recorded in ``model_dir``'s ledger."""
    root = Path(model_dir)
    state = json.loads((root / "state.json").read_text("utf-8"))
    L.verify_ledger(root / "ledger.jsonl", head=state.get("ledger_head"))
    for e in L.read_ledger(root / "ledger.jsonl"):
        if e.get("hash") == cert.claims.get("ledger_entry"):
            if e.get("request_id") != cert.claims.get("request_id"):
                break
            if e.get("manifest_after") != cert.claims.get("manifest_after"):
                break
            return
    raise TamperedError(f"certificate {cert.claims.get('request_id')} is not in {root}'s ledger")
