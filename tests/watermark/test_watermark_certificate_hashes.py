"""Certificates record the scored token ids' hash and the tokenizer/model hashes; a third
party re-checks them in a fresh process with the public key alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from probity.cli import main
from probity.errors import TamperedError
from probity.watermark import certify, make_scheme, new_key, verify_certificate
from probity.watermark.certificates import model_digest, token_ids_digest, tokenizer_digest


def test_token_ids_hash_is_signed_and_checked() -> None:
    key = new_key("c", save=False)
    ids = [5, 17, 3, 99, 42] * 8
    det = make_scheme("kgw", key).detect(ids)
    cert = certify(det, key, "some text", token_ids=ids, tokenizer_sha256="ab" * 32)
    assert cert.claims["token_ids_sha256"] == token_ids_digest(ids)
    assert cert.claims["token_count"] == len(ids) and cert.claims["tokenizer_sha256"] == "ab" * 32
    assert "null" in cert.claims
    assert verify_certificate(cert, key.public_key_hex, token_ids=ids).valid
    with pytest.raises(TamperedError, match="token ids"):
        verify_certificate(cert, key.public_key_hex, token_ids=[*ids[:-1], 43])
    forged = cert.to_dict()
    forged["claims"] = {**forged["claims"], "token_ids_sha256": token_ids_digest([1, 2])}
    with pytest.raises(TamperedError):
        verify_certificate(forged, key.public_key_hex)


def test_cli_certificate_hashes_verified_in_a_fresh_process(
    capsys, tmp_path, tiny_model_dir
) -> None:
    assert main(["keys", "new", "prod"]) == 0
    pub = tmp_path / "prod.pub.json"
    assert main(["keys", "export", "prod", "--out", str(pub)]) == 0
    capsys.readouterr()
    text = "the river and the stone walk slowly when the old teacher reads a letter"
    cert = tmp_path / "cert.json"
    rc = main(
        [
            "watermark",
            "detect",
            text,
            "--key",
            "prod",
            "--tokenizer",
            str(tiny_model_dir),
            "--certificate",
            str(cert),
            "--json",
        ]
    )
    assert rc == 0
    claims = json.loads(cert.read_text())["claims"]
    assert claims["tokenizer_sha256"] == tokenizer_digest(tiny_model_dir)
    assert claims["model_sha256"] == model_digest(tiny_model_dir)
    from transformers import AutoTokenizer

    ids = AutoTokenizer.from_pretrained(tiny_model_dir)(text, add_special_tokens=False)["input_ids"]
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(ids))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    base = [sys.executable, "-m", "probity", "watermark", "verify", str(cert)]
    base += ["--public-key", str(pub), "--json"]
    ok = subprocess.run(
        [*base, "--token-ids-file", str(ids_file), "--text", text],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    res = json.loads(ok.stdout)
    assert res["text_checked"] and res["claims"]["token_count"] == len(ids)
    ids_file.write_text(json.dumps(ids[:-1]))
    bad = subprocess.run(
        [*base, "--token-ids-file", str(ids_file)], capture_output=True, env=env, timeout=120
    )
    assert bad.returncode == 1 and b"token ids" in bad.stderr
