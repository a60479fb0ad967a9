"""C2PA content credentials for generated text (C2PA 2.x, unstructured text).

A signed C2PA manifest states that the text was made by an AI model
(``c2pa.actions.v2``: ``c2pa.created`` with ``digitalSourceType``
``trainedAlgorithmicMedia``) and records the watermark's public parameters
(``org.probity.watermark``). It is embedded in the text itself as the C2PA text embedding
method for unstructured text specifies: the manifest store bytes become a
``C2PATextManifestWrapper`` (a zero-width no-break space followed by Unicode variation
selectors, one per byte) appended to the text (``c2pa-text``). The text reads the same.

**How it is signed.** c2pa-python 0.38 (c2pa-rs 0.91) has no asset handler for plain text, so
the manifest is signed through the SDK's *data-hash* API: a ``c2pa.hash.data`` hard binding
whose hash is SHA-256 of the final UTF-8 bytes with one exclusion, the wrapper's byte range
(``start`` = the text's byte length, ``length`` = the wrapper's byte length, fixed in advance
from the placeholder's size so the range is known before signing). The steps are the
library's: ``data_hashed_placeholder`` (reserves the manifest size), then
``sign_data_hashed_embeddable`` with the precomputed hash, returning ``application/c2pa``
manifest bytes; the wrapper is padded to exactly the reserved length. c2pa-python does not
wrap those two C functions, so they are called through ctypes on the library that c2pa-python
loads (its own handles) -- the only hand-written binding here.

**How it is verified.** :func:`verify_content_credentials` extracts the wrapper
(``c2pa-text``), checks that it sits exactly in the excluded byte range, and reads the
manifest back with ``c2pa.Reader("text/plain", text_bytes, manifest_bytes)``. The library
validates the claim signature, the certificate (against ``trust_anchors`` when given) and the
data hash over the text (``assertion.dataHash.match``). Because it has no text handler it also
reports ``assertion.dataHash.mismatch`` with "data hash exclusion does not match the manifest
location in the asset": it cannot locate the manifest inside a text asset. That one failure is
accepted (and listed in ``accepted_failures``) only when the library's own data-hash check
succeeded and Probity found the wrapper exactly at the excluded range; any other failure makes
the credentials invalid.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probity.errors import InputError, TamperedError, require
from probity.home import keys_dir
from probity.io import write_text_atomic

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
WATERMARK_ASSERTION = "org.probity.watermark"
_LOCATION_FAILURE = "data hash exclusion does not match the manifest location in the asset"


@dataclass(frozen=True)
class SigningIdentity:
    """A C2PA signer: an X.509 certificate chain (PEM, leaf first) and its private key (PEM,
    ES256). ``ca_pem`` is the root to trust when verifying (for a local identity)."""

    chain_pem: str
    private_key_pem: str
    ca_pem: str = ""


def _name(cn: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Probity local C2PA identity"),
        ]
    )


def new_signing_identity(common_name: str = "Probity text signer") -> SigningIdentity:
    """A local certificate authority and an ES256 signing certificate issued by it (for
    development and for deployers without a CA-issued C2PA certificate: verifiers must be
    given ``ca_pem`` as a trust anchor)."""
    require("cryptography", "crypto")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    def cert(subject: str, issuer: Any, public: Any, signing: Any, ca: bool) -> Any:
        now = _dt.datetime.now(_dt.UTC)
        usage = (False, False, False, False, False, True, True) if ca else (True,) + (False,) * 6
        b = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(*usage, False, False), critical=True)
        )
        if not ca:  # C2PA signers need an allowed extended key usage and key identifiers
            b = (
                b.add_extension(
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
                )
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(signing.public_key()),
                    critical=False,
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            )
        return b.sign(signing, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert(f"{common_name} CA", _name(f"{common_name} CA"), ca_key.public_key(), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert(common_name, ca.subject, key.public_key(), ca_key, False)
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem).decode()
    return SigningIdentity(
        chain_pem=leaf.public_bytes(pem).decode() + ca_pem,
        private_key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        ca_pem=ca_pem,
    )


def load_or_create_identity() -> SigningIdentity:
    """The Probity home's local C2PA identity (``<home>/keys/c2pa/``), created on first use."""
    d = keys_dir() / "c2pa"
    files = {n: d / f"{n}.pem" for n in ("chain", "key", "ca")}
    if all(p.is_file() for p in files.values()):
        return SigningIdentity(
            files["chain"].read_text(), files["key"].read_text(), files["ca"].read_text()
        )
    ident = new_signing_identity()
    d.mkdir(parents=True, exist_ok=True)
    write_text_atomic(files["chain"], ident.chain_pem)
    write_text_atomic(files["ca"], ident.ca_pem)
    write_text_atomic(files["key"], ident.private_key_pem, permissions=0o600)
    return ident


def _libs() -> tuple[Any, Any]:
    c2pa = require("c2pa", "c2pa")
    require("c2pa_text", "c2pa")
    from c2pa import c2pa as native

    lib = native._lib
    ptr = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
    lib.c2pa_builder_data_hashed_placeholder.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_char_p,
        ptr,
    ]
    lib.c2pa_builder_data_hashed_placeholder.restype = ctypes.c_int64
    lib.c2pa_builder_sign_data_hashed_embeddable.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_void_p,
        ptr,
    ]
    lib.c2pa_builder_sign_data_hashed_embeddable.restype = ctypes.c_int64
    return c2pa, lib


def _call(lib: Any, fn: Any, *args: Any) -> bytes:
    out = ctypes.POINTER(ctypes.c_ubyte)()
    n = fn(*args, ctypes.byref(out))
    if n < 0:
        lib.c2pa_error.restype = ctypes.c_char_p
        msg = lib.c2pa_error() or b"unknown error"
        raise InputError(f"C2PA signing failed: {msg.decode(errors='replace')}")
    data = bytes(out[:n])
    free = getattr(lib, "c2pa_free", None) or lib.c2pa_manifest_bytes_free
    free.argtypes = [ctypes.c_void_p]
    free(ctypes.cast(out, ctypes.c_void_p))
    return data


def attach_content_credentials(
    text: str,
    watermark: dict[str, Any] | None = None,
    *,
    identity: SigningIdentity | None = None,
    title: str = "AI-generated text",
    generator: str = "probity",
) -> str:
    """``text`` with a signed C2PA manifest embedded (see the module docstring).

    ``watermark``: the public watermark parameters to record (e.g. ``scheme.public_params()``).
    ``identity``: the signer (default: the Probity home's local identity).
    """
    import c2pa_text

    if not isinstance(text, str) or not text:
        raise InputError("content credentials need a non-empty text")
    if c2pa_text.find_wrapper_info(text) is not None:
        raise InputError("the text already carries a C2PA manifest")
    from probity import __version__

    c2pa, lib = _libs()
    ident = identity or load_or_create_identity()
    manifest = {
        "claim_generator_info": [{"name": generator, "version": __version__}],
        "title": title,
        "format": "text/plain",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}
                    ]
                },
            },
            {"label": WATERMARK_ASSERTION, "data": dict(watermark or {})},
        ],
    }
    info = c2pa.C2paSignerInfo(
        b"es256", ident.chain_pem.encode(), ident.private_key_pem.encode(), None
    )
    signer = c2pa.Signer.from_info(info)
    builder = c2pa.Builder(json.dumps(manifest))
    bh = ctypes.cast(builder._handle, ctypes.c_void_p)
    sh = ctypes.cast(signer._handle, ctypes.c_void_p)
    fmt = b"application/c2pa"
    placeholder = _call(
        lib, lib.c2pa_builder_data_hashed_placeholder, bh, signer.reserve_size(), fmt
    )
    body = text.encode("utf-8")
    wrapper_len = c2pa_text.worst_case_wrapper_byte_length(len(placeholder))
    data_hash = {
        "exclusions": [{"start": len(body), "length": wrapper_len}],
        "name": "jumbf manifest",
        "alg": "sha256",
        "hash": list(hashlib.sha256(body).digest()),
        "pad": [],
    }
    manifest_bytes = _call(
        lib,
        lib.c2pa_builder_sign_data_hashed_embeddable,
        bh,
        sh,
        json.dumps(data_hash).encode(),
        fmt,
        None,
    )
    wrapper = c2pa_text.encode_wrapper_padded(manifest_bytes, wrapper_len)
    return text + wrapper


@dataclass(frozen=True)
class ContentCredentials:
    """What :func:`verify_content_credentials` found: ``text`` without the wrapper,
    ``ai_generated`` (a ``trainedAlgorithmicMedia`` creation action), ``watermark`` (the
    recorded parameters), ``trusted`` (the signer chains to a given trust anchor),
    ``validation_state`` and the library's codes, and ``accepted_failures``."""

    text: str
    ai_generated: bool
    watermark: dict[str, Any]
    trusted: bool
    validation_state: str
    signer: dict[str, Any]
    success_codes: list[str] = field(default_factory=list)
    accepted_failures: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": True,
            "ai_generated": self.ai_generated,
            "watermark": self.watermark,
            "trusted": self.trusted,
            "validation_state": self.validation_state,
            "signer": self.signer,
            "success_codes": self.success_codes,
            "accepted_failures": self.accepted_failures,
            "text_sha256": hashlib.sha256(self.text.encode()).hexdigest(),
        }


def verify_content_credentials(
    text_with_manifest: str, *, trust_anchors: str | None = None
) -> ContentCredentials:
    """Extract and verify the embedded manifest with the c2pa library; raise
    :class:`TamperedError` when anything but the documented text-location limitation fails.

    ``trust_anchors``: PEM certificates to trust (e.g. ``identity.ca_pem``); without them the
    signature is still checked but ``trusted`` is false.
    """
    import c2pa_text

    c2pa, _lib = _libs()
    found = c2pa_text.find_wrapper_info(text_with_manifest)
    if found is None:
        raise InputError("the text carries no C2PA manifest (no C2PATextManifestWrapper)")
    manifest_bytes, _start, _end = found
    _bytes, clean = c2pa_text.extract_manifest(text_with_manifest)
    data = text_with_manifest.encode("utf-8")
    settings: dict[str, Any] = {"verify": {"verify_trust": bool(trust_anchors)}}
    if trust_anchors:
        settings["trust"] = {"trust_anchors": trust_anchors}
    ctx = c2pa.Context(c2pa.Settings.from_dict(settings))
    try:
        reader = c2pa.Reader("text/plain", io.BytesIO(data), manifest_bytes, ctx)
        results = reader.get_validation_results() or {}
        active = reader.get_active_manifest() or {}
        state = str(reader.get_validation_state())
    except Exception as exc:  # the library's own error types
        raise TamperedError(f"the C2PA manifest cannot be read: {exc}") from exc
    vr = results.get("activeManifest", {})
    success = [x.get("code", "") for x in vr.get("success", [])]
    failures = vr.get("failure", [])
    # the data hash's exclusion must be exactly the wrapper's byte range
    hard = [a for a in _assertions_raw(reader, active) if a[0] == "c2pa.hash.data"]
    wrapper_start = len(clean.encode("utf-8"))
    excl_ok = any(
        [{"start": e.get("start"), "length": e.get("length")} for e in h.get("exclusions", [])]
        == [{"start": wrapper_start, "length": len(data) - wrapper_start}]
        for _, h in hard
    )
    accepted = []
    for f in failures:
        code, why = f.get("code", ""), f.get("explanation", "")
        if (
            code == "assertion.dataHash.mismatch"
            and _LOCATION_FAILURE in why
            and "assertion.dataHash.match" in success
            and excl_ok
        ):
            accepted.append(f"{code}: {why}")
            continue
        if code == "signingCredential.untrusted" and not trust_anchors:
            accepted.append(f"{code}: no trust anchor given")
            continue
        raise TamperedError(f"C2PA validation failed: {code}: {why}")
    if "claimSignature.validated" not in success or "assertion.dataHash.match" not in success:
        raise TamperedError("C2PA validation did not confirm the claim signature and data hash")
    assertions = {a.get("label"): a.get("data", {}) for a in active.get("assertions", [])}
    actions = assertions.get("c2pa.actions.v2", {}).get("actions", [])
    return ContentCredentials(
        text=clean,
        ai_generated=any(
            a.get("action") == "c2pa.created"
            and a.get("digitalSourceType") == TRAINED_ALGORITHMIC_MEDIA
            for a in actions
        ),
        watermark=dict(assertions.get(WATERMARK_ASSERTION, {})),
        trusted="signingCredential.trusted" in success,
        validation_state=state,
        signer=dict(active.get("signature_info", {})),
        success_codes=success,
        accepted_failures=accepted,
        manifest=active,
    )


def _assertions_raw(reader: Any, active: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Hard-binding assertions from the detailed report (the plain one omits them)."""
    try:
        detailed = json.loads(reader.detailed_json())
    except Exception:
        return []
    label = active.get("label")
    m = detailed.get("manifests", {}).get(label, {})
    out = []
    for a in (
        m.get("assertion_store", {}).items() if isinstance(m.get("assertion_store"), dict) else []
    ):
        out.append(a)
    return out


def read_identity_files(chain: Path, key: Path) -> SigningIdentity:
    """A CA-issued C2PA identity from PEM files (chain leaf first, ES256 private key)."""
    try:
        return SigningIdentity(chain.read_text(), key.read_text())
    except OSError as exc:
        raise InputError(f"cannot read the C2PA signing identity: {exc}") from exc
