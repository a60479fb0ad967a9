"""Provenance with watermark keys: proof with a verifiable certificate for the right key only."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest

from probity.detect import provenance
from probity.errors import InputError, TamperedError
from probity.lm import GenerationParams, sample
from probity.watermark import make_scheme, new_key, verify_certificate


class _WholeWords:
    """Allow only whole-word tokens, so the decoded text re-tokenises to the generated ids
    (the random tiny model otherwise writes byte fragments that tokenise differently)."""

    def __init__(self, model) -> None:
        ok = [
            t
            for t in range(model.vocab_size)
            if re.fullmatch(r" [a-z]{2,}", model.decode([t]) or "")
            and model.encode(model.decode([t])) == [t]
        ]
        self.mask = np.full(model.vocab_size, -np.inf)
        self.mask[ok] = 0.0

    def __call__(self, input_ids, logits):
        return logits + self.mask


@pytest.fixture(scope="module")
def marked(tiny_model):
    """A key (not saved: the per-test home is fresh) and a text generated under its watermark."""
    key = new_key(save=False)
    scheme = make_scheme("kgw", key, delta=4.0)
    prompt = "the river"
    out = sample(
        tiny_model,
        [prompt],
        GenerationParams(max_new_tokens=40, seed=2),
        adjusters=[_WholeWords(tiny_model), scheme.adjuster(tiny_model.vocab_size)],
    )[0]
    return key, prompt + out.text


def test_watermarked_text_is_proof_with_a_certificate_that_verifies(tiny_model, marked):
    key, text = marked
    other = new_key(save=False)
    rep = provenance([text], keys=[other, key], tokenizer=tiny_model)[0]
    assert rep.kind == "proof", rep.to_dict()
    assert key.key_id in rep.conclusion and "proof" in rep.conclusion
    by_key = {w["key_id"]: w for w in rep.watermark}
    assert by_key[key.key_id]["watermarked"] and by_key[key.key_id]["p_value"] <= 1e-4
    assert not by_key[other.key_id]["watermarked"]
    check = verify_certificate(rep.certificate, key.public_key_hex, text=text)
    assert check.valid and check.key_matched and check.text_matched
    assert check.claims["key_id"] == key.key_id
    forged = copy.deepcopy(rep.certificate)
    forged["claims"]["p_value"] = 1e-30
    with pytest.raises(TamperedError):
        verify_certificate(forged, key.public_key_hex)
    with pytest.raises(TamperedError):  # the certificate belongs to this text only
        verify_certificate(rep.certificate, key.public_key_hex, text=text + " and more")


def test_the_same_text_under_a_different_key_is_not_proof(tiny_model, marked):
    _, text = marked
    rep = provenance([text], keys=[new_key(save=False)], tokenizer=tiny_model)[0]
    assert rep.kind == "none" and rep.certificate is None
    assert rep.watermark[0]["watermarked"] is False and rep.watermark[0]["p_value"] > 1e-4
    assert "No watermark found for the given keys" in rep.conclusion
    with pytest.raises(InputError, match="tokenizer"):
        provenance([text], keys=[new_key(save=False)])


def test_cli_proves_with_a_stored_key_and_writes_the_certificate(
    tiny_model_dir, tiny_model, marked, tmp_path, capsys
):
    from probity.cli import main
    from probity.home import keys_dir
    from probity.io import write_json_atomic
    from probity.watermark import WatermarkKey

    key, text = marked
    stored = WatermarkKey(**{**key.__dict__, "name": "fixture"})
    write_json_atomic(keys_dir() / f"{key.key_id}.json", stored.secret_export())
    cert = tmp_path / "cert.json"
    args = ["detect", "--model", str(tiny_model_dir), "--key", "fixture", "--no-zero-shot"]
    assert main([*args, "--certificate", str(cert), "--json", text]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "proof" and data["zero_shot"] is None
    assert verify_certificate(cert, key.public_key_hex, text=text).text_matched
    assert main([*args, "the teacher walked home slowly in the rain"]) == 0
    assert "NONE" in capsys.readouterr().out
    records = tmp_path / "r.jsonl"
    records.write_text(
        json.dumps({"text": text}) + "\n" + json.dumps({"text": "the old stone bridge"}) + "\n"
    )
    assert main([*args, "--jsonl", str(records), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()  # JSON lines, one per record
    assert [json.loads(r)["kind"] for r in lines] == ["proof", "none"]
    assert [json.loads(r)["record"] for r in lines] == [1, 2]
    assert main(["detect", "--model", str(tiny_model_dir), "--no-zero-shot", "x"]) == 2
    assert main([*args, "--scheme", "aaronson", "x"]) == 2
    assert main([*args, "--scheme", "gumbel", "--gamma", "0.5", "x"]) == 2
