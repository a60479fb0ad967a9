"""Keys in the Probity home and signed certificates."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from probity.errors import InputError, TamperedError, UnknownKeyError
from probity.watermark import certify, list_keys, load_key, make_scheme, new_key, verify_certificate


def test_new_key_is_stored_privately_and_loads_by_id_name_and_path() -> None:
    k = new_key("prod")
    assert k.key_id.startswith("wk-") and k.path and os.stat(k.path).st_mode & 0o077 == 0
    for ref in (k.key_id, "prod", k.path):
        got = load_key(ref)
        assert got.secret == k.secret and got.public_key == k.public_key
    assert [x.key_id for x in list_keys()] == [k.key_id]
    assert "secret" not in json.dumps(k.to_dict()) and k.secret.hex() not in repr(k)


def test_unknown_key_says_what_to_do() -> None:
    with pytest.raises(UnknownKeyError, match=r"unknown key 'nope'.*probity keys list"):
        load_key("nope")


def test_duplicate_or_bad_names_and_damaged_files_are_input_errors(tmp_path) -> None:
    new_key("a")
    with pytest.raises(InputError, match="already exists"):
        new_key("a")
    with pytest.raises(InputError):
        new_key("x/y")
    bad = tmp_path / "k.json"
    bad.write_text('{"format": "probity-watermark-key/1", "key_id": "wk-1"}')
    with pytest.raises(InputError, match="damaged"):
        load_key(bad)
    pub = tmp_path / "p.json"
    pub.write_text(json.dumps(new_key("b").public_export()))
    with pytest.raises(InputError, match="public key export"):
        load_key(pub)


def test_wrong_key_does_not_detect() -> None:
    a, b = new_key("a"), new_key("b")
    rng = np.random.default_rng(0)
    sa = make_scheme("kgw", a, hard=True)
    ids = [int(rng.integers(0, 1000))]
    for _ in range(60):
        mask = sa.green_mask(ids[-1:], 1000)
        ids.append(int(rng.choice(np.flatnonzero(mask))))
    assert sa.detect(ids).watermarked
    assert not make_scheme("kgw", b, hard=True).detect(ids).watermarked


def _cert(tmp_path):
    key = new_key("signer")
    s = make_scheme("kgw", key)
    det = s.detect(list(range(100, 160)))
    cert = certify(det, key, "some text")
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(cert.to_dict()))
    return key, cert, path


def test_certificate_verifies_with_public_key_only(tmp_path) -> None:
    key, cert, path = _cert(tmp_path)
    pub = tmp_path / "pub.json"
    pub.write_text(json.dumps(key.public_export()))
    res = verify_certificate(path, pub, text="some text")
    assert res.valid and res.key_matched and res.text_matched
    assert res.claims["scored"] == 59 and res.claims["key_id"] == key.key_id
    assert verify_certificate(cert).valid and not verify_certificate(cert).key_matched
    assert key.secret.hex() not in path.read_text()


@pytest.mark.parametrize(
    "field,value", [("p_value", 1e-30), ("watermarked", True), ("text_sha256", "0" * 64)]
)
def test_tampered_certificate_fails(tmp_path, field: str, value) -> None:
    _, _, path = _cert(tmp_path)
    data = json.loads(path.read_text())
    data["claims"][field] = value
    path.write_text(json.dumps(data))
    with pytest.raises(TamperedError, match="does not verify"):
        verify_certificate(path)


def test_certificate_from_another_key_or_for_another_text_fails(tmp_path) -> None:
    _, _, path = _cert(tmp_path)
    other = new_key("other")
    with pytest.raises(TamperedError, match="not signed by the given public key"):
        verify_certificate(path, other.public_key_hex)
    with pytest.raises(TamperedError, match="text does not match"):
        verify_certificate(path, text="other text")
    data = json.loads(path.read_text())
    data["public_key"] = other.public_key_hex  # swap in another key: signature fails
    path.write_text(json.dumps(data))
    with pytest.raises(TamperedError):
        verify_certificate(path)
    path.write_text("{not json")
    with pytest.raises(TamperedError):
        verify_certificate(path)
