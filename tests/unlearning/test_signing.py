"""The project-wide signing layer: keys by purpose and `probity verify` on every kind."""

from __future__ import annotations

import json

import pytest

from probity.cli import main
from probity.errors import InputError, TamperedError
from probity.signing import list_signing_keys, purpose_public_export, verify_any
from probity.watermark import certify, make_scheme, new_key


def _watermark_cert(tmp_path):
    key = new_key("signer")
    det = make_scheme("kgw", key).detect(list(range(100, 160)))
    path = tmp_path / "wm-cert.json"
    path.write_text(json.dumps(certify(det, key, "some text").to_dict()))
    pub = tmp_path / "wm.pub.json"
    pub.write_text(json.dumps(key.public_export()))
    return path, pub


def test_verify_dispatches_a_watermark_certificate(tmp_path, capsys):
    path, pub = _watermark_cert(tmp_path)
    assert main(["verify", str(path), "--key", str(pub), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["kind"] == "watermark-detection" and res["key_matched"] is True
    # an unlearning key does not vouch for a watermark certificate
    unl = tmp_path / "u.pub.json"
    unl.write_text(json.dumps(purpose_public_export("unlearning")))
    assert main(["verify", str(path), "--key", str(unl)]) == 1
    with pytest.raises(InputError, match="no public key"):
        verify_any(path, None)


def test_keys_are_listed_by_purpose_and_shown(capsys):
    new_key("wm1")
    purpose_public_export("unlearning")
    purpose_public_export("audit")
    by_purpose = {k.purpose: k for k in list_signing_keys()}
    assert set(by_purpose) == {"watermark", "unlearning", "audit"}
    assert by_purpose["unlearning"].key_id.startswith("unlearning-")
    assert main(["keys", "show", "unlearning", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["public_key"] == by_purpose["unlearning"].public_key
    assert "PRIVATE" not in json.dumps(shown)


def test_a_self_signed_forgery_fails_against_the_pinned_key(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from probity.signing import sign_document

    pub = purpose_public_export("unlearning")["public_key"]
    forged = sign_document(
        {"kind": "audit", "key_id": "audit-x", "claims": {"ok": True}},
        Ed25519PrivateKey.generate(),
    )
    with pytest.raises(TamperedError, match="different key"):
        verify_any(forged, pub)
    assert verify_any(forged, forged["public_key"])["valid"]  # integrity alone holds
