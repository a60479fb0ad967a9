"""Signed detection certificates (Ed25519), verifiable with the public key alone.

The signature covers the canonical JSON (sorted keys, no spaces, UTF-8) of
``{"kind", "key_id", "claims"}``. Claims: scheme and public parameters, key id, counts,
statistic, z, p-value, fpr, verdict, SHA-256 of the text, UTC time, Probity version.
A provider hands the certificate and its public key (``probity keys export KEY``) to a third
party, who runs ``probity watermark verify CERT --public-key KEY.pub.json``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probity.errors import InputError, TamperedError, require
from probity.text import text_digest
from probity.types import Certificate
from probity.watermark.detection import Detection
from probity.watermark.keys import PUBLIC_FORMAT, WatermarkKey

KIND = "watermark-detection"


def _canonical(kind: str, key_id: str, claims: dict[str, Any]) -> bytes:
    body = {"kind": kind, "key_id": key_id, "claims": claims}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def token_ids_digest(token_ids: Any) -> str:
    """SHA-256 of token ids as decimal integers joined by commas (``"12,7,99"``): what a
    certificate records so that a third party can confirm the ids it re-scores."""
    import hashlib

    return hashlib.sha256(",".join(str(int(t)) for t in token_ids).encode()).hexdigest()


_TOKENIZER_GLOBS = ("tokenizer*.json", "vocab*", "merges.txt", "special_tokens_map.json", "*.model")
_MODEL_GLOBS = ("config.json", "*.safetensors", "*.bin")


def folder_digest(folder: str | os.PathLike[str], globs: tuple[str, ...]) -> str | None:
    """SHA-256 over the files of ``folder`` matching ``globs`` (sorted names, each name then
    its bytes' SHA-256), or None when none match. Used for tokenizer and model hashes."""
    import hashlib

    root = Path(folder)
    if not root.is_dir():
        return None
    files = sorted({p for g in globs for p in root.glob(g) if p.is_file()})
    if not files:
        return None
    outer = hashlib.sha256()
    for f in files:
        inner = hashlib.sha256()
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                inner.update(chunk)
        outer.update(f.name.encode() + b"\0" + inner.digest())
    return outer.hexdigest()


def tokenizer_digest(folder: str | os.PathLike[str]) -> str | None:
    """Hash of a tokenizer's files in a model or tokenizer folder (see :func:`folder_digest`)."""
    return folder_digest(folder, _TOKENIZER_GLOBS)


def model_digest(folder: str | os.PathLike[str]) -> str | None:
    """Hash of a model folder's config and weights (see :func:`folder_digest`)."""
    return folder_digest(folder, _MODEL_GLOBS)


def certify(
    detection: Detection,
    key: WatermarkKey,
    text: str,
    *,
    token_ids: Any = None,
    tokenizer_sha256: str | None = None,
    model_sha256: str | None = None,
) -> Certificate:
    """Sign a statement of ``detection`` on ``text`` with ``key``'s Ed25519 private key.

    ``token_ids`` (the ids that were scored) adds ``token_ids_sha256`` and ``token_count``;
    ``tokenizer_sha256`` / ``model_sha256`` (see :func:`tokenizer_digest`,
    :func:`model_digest`) record which tokenizer and model the detection used.
    """
    from probity import __version__

    if not isinstance(key, WatermarkKey):
        raise InputError("certify needs a WatermarkKey (with its private signing key)")
    claims = {
        "scheme": detection.scheme,
        "params": detection.params,
        "key_id": key.key_id,
        "green": detection.green,
        "scored": detection.scored,
        "statistic": detection.statistic,
        "z": detection.z,
        "p_value": detection.p_value,
        "fpr": detection.fpr,
        "watermarked": detection.watermarked,
        "window": detection.window,
        "text_sha256": text_digest(text),
        "null": detection.null,
        "issued_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "probity_version": __version__,
    }
    if token_ids is not None:
        ids = [int(t) for t in token_ids]
        claims["token_ids_sha256"] = token_ids_digest(ids)
        claims["token_count"] = len(ids)
    if tokenizer_sha256:
        claims["tokenizer_sha256"] = tokenizer_sha256
    if model_sha256:
        claims["model_sha256"] = model_sha256
    claims = json.loads(json.dumps(claims))  # plain JSON values, as verification will see them
    sig = key.sign(_canonical(KIND, key.key_id, claims))
    return Certificate(
        kind=KIND,
        claims=claims,
        key_id=key.key_id,
        public_key=key.public_key_hex,
        signature=sig.hex(),
    )


@dataclass(frozen=True)
class CertificateCheck:
    """A verified certificate: ``valid`` is always true (failures raise TamperedError);
    ``key_matched`` says whether a trusted public key was given and matched;
    ``text_matched`` is None unless a text was given to compare with the certified hash;
    ``text_checked`` says whether a text was compared at all (without one, the signature
    proves only what the certificate claims, not that it is about the text at hand)."""

    valid: bool
    key_id: str
    key_matched: bool
    text_matched: bool | None
    claims: dict[str, Any]
    text_checked: bool = False

    def __bool__(self) -> bool:
        return self.valid

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "key_id": self.key_id,
            "key_matched": self.key_matched,
            "text_matched": self.text_matched,
            "text_checked": self.text_checked,
            "claims": self.claims,
        }


def load_certificate(
    cert_or_path: Certificate | dict[str, Any] | str | os.PathLike[str],
) -> Certificate:
    if isinstance(cert_or_path, Certificate):
        return cert_or_path
    data = cert_or_path
    if not isinstance(data, dict):
        p = Path(data)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"certificate file {p} does not exist") from exc
        except (OSError, ValueError) as exc:
            raise TamperedError(f"certificate {p} is not valid JSON: {exc}") from exc
    try:
        return Certificate.from_dict(data)
    except (KeyError, TypeError) as exc:
        raise TamperedError(f"certificate is missing field {exc}") from exc


def _public_key_hex(public_key: Any) -> str:
    if isinstance(public_key, WatermarkKey):
        return public_key.public_key_hex
    if isinstance(public_key, bytes):
        return public_key.hex()
    s = str(public_key)
    p = Path(s).expanduser()
    looks_like_file = s.endswith(".json") or "/" in s or "\\" in s
    if looks_like_file and not p.exists():
        raise InputError(f"public key file {s} not found (no such file)")
    if p.is_file():
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read public key file {p}: {exc}") from exc
        if data.get("format") not in (PUBLIC_FORMAT, "probity-watermark-key/1"):
            raise InputError(f"{p} is not a Probity public key export")
        return str(data["public_key"])
    try:
        if len(bytes.fromhex(s)) == 32:
            return s.lower()
    except ValueError:
        pass
    from probity.watermark.keys import load_key

    return load_key(s).public_key_hex


def verify_certificate(
    cert_or_path: Certificate | dict[str, Any] | str | os.PathLike[str],
    public_key: Any = None,
    *,
    text: str | None = None,
    token_ids: Any = None,
) -> CertificateCheck:
    """Check a certificate's Ed25519 signature; raise :class:`TamperedError` when it fails.

    ``public_key`` (a hex string, a public key export file, a key id or a WatermarkKey) is the
    key you trust; without it the certificate's embedded key is used, which proves integrity
    but not who signed. ``text`` (optional) must hash to the certified ``text_sha256``;
    ``token_ids`` (optional) to the certified ``token_ids_sha256``.
    """
    ed = require("cryptography.hazmat.primitives.asymmetric.ed25519", "crypto")
    exc_mod = require("cryptography.exceptions", "crypto")
    cert = load_certificate(cert_or_path)
    if cert.algorithm != "ed25519":
        raise TamperedError(f"unsupported certificate algorithm {cert.algorithm!r}")
    matched = False
    pub_hex = cert.public_key
    if public_key is not None:
        trusted = _public_key_hex(public_key)
        if trusted.lower() != cert.public_key.lower():
            raise TamperedError(f"certificate {cert.key_id} was not signed by the given public key")
        matched = True
        pub_hex = trusted
    try:
        pub = ed.Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub_hex))
        pub.verify(bytes.fromhex(cert.signature), _canonical(cert.kind, cert.key_id, cert.claims))
    except (ValueError, exc_mod.InvalidSignature) as exc:
        raise TamperedError(
            f"certificate signature does not verify (key {cert.key_id}): "
            "the certificate was altered or signed by another key"
        ) from exc
    if cert.claims.get("key_id") != cert.key_id:
        raise TamperedError("certificate key id does not match its claims")
    text_matched = None
    if text is not None:
        text_matched = text_digest(text) == cert.claims.get("text_sha256")
        if not text_matched:
            raise TamperedError("the text does not match the certified text hash")
    if token_ids is not None:
        certified = cert.claims.get("token_ids_sha256")
        if certified is None:
            raise InputError("this certificate records no token ids hash to compare with")
        if token_ids_digest(token_ids) != certified:
            raise TamperedError("the token ids do not match the certified token ids hash")
    return CertificateCheck(
        valid=True,
        key_id=cert.key_id,
        key_matched=matched,
        text_matched=text_matched,
        claims=cert.claims,
        text_checked=text is not None,
    )
