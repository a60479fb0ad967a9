"""C2PA content credentials for generated text: made by Probity, verified with the c2pa
library, and an attack per tamper mode (edited text, swapped manifest, untrusted signer)."""

from __future__ import annotations

import pytest

pytest.importorskip("c2pa")
pytest.importorskip("c2pa_text")

import c2pa_text

from probity.errors import TamperedError
from probity.watermark import make_scheme, new_key
from probity.watermark.content_credentials import (
    attach_content_credentials,
    new_signing_identity,
    verify_content_credentials,
)

TEXT = "Once upon a time, a small model wrote a story about a river.\nIt ended well.\n"


@pytest.fixture(scope="module")
def identity():
    return new_signing_identity()


@pytest.fixture(scope="module")
def signed(identity) -> str:
    params = make_scheme("kgw", new_key("c2", save=False)).public_params()
    return attach_content_credentials(TEXT, params, identity=identity)


def test_manifest_verifies_with_c2pa_and_states_ai_generation(signed, identity) -> None:
    assert signed.startswith(TEXT) and signed != TEXT
    assert c2pa_text.extract_manifest(signed)[1] == TEXT  # the text reads the same
    cred = verify_content_credentials(signed, trust_anchors=identity.ca_pem)
    assert cred.text == TEXT and cred.ai_generated and cred.trusted
    assert cred.watermark["scheme"] == "kgw" and cred.watermark["gamma"] == 0.25
    assert "claimSignature.validated" in cred.success_codes
    assert "assertion.dataHash.match" in cred.success_codes
    assert all("manifest location" in f for f in cred.accepted_failures)
    untrusted = verify_content_credentials(signed)  # no anchor: checked, but not trusted
    assert not untrusted.trusted


def test_edited_text_is_rejected(signed, identity) -> None:
    edited = signed.replace("ended well", "ended badly")
    with pytest.raises(TamperedError):
        verify_content_credentials(edited, trust_anchors=identity.ca_pem)


def test_manifest_moved_to_another_text_is_rejected(signed, identity) -> None:
    manifest, _ = c2pa_text.extract_manifest(signed)
    other = "A different text of the same length or not." + c2pa_text.encode_wrapper(manifest)
    with pytest.raises(TamperedError):
        verify_content_credentials(other, trust_anchors=identity.ca_pem)


def test_other_signer_is_not_trusted(signed) -> None:
    stranger = new_signing_identity("someone else")
    with pytest.raises(TamperedError, match="untrusted"):
        verify_content_credentials(signed, trust_anchors=stranger.ca_pem)


def test_cli_generate_c2pa_then_verify_from_file(capfd, tmp_path, tiny_model_dir) -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = tmp_path / "story.txt"
    with out.open("wb") as fh:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "probity",
                "watermark",
                "generate",
                "the river",
                "--model",
                str(tiny_model_dir),
                "--hashing-key",
                "7",
                "--max-new-tokens",
                "30",
                "--seed",
                "1",
                "--c2pa",
            ],
            stdout=fh,
            env=env,
            check=True,
            timeout=300,
        )
    import json

    from probity.cli import main

    assert main(["watermark", "c2pa-verify", "--file", str(out), "--json"]) == 0
    res = json.loads(capfd.readouterr().out)
    assert res["ai_generated"] and res["trusted"] and res["watermark"]["backend"] == "hf-compat"
    out.write_text("X" + out.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["watermark", "c2pa-verify", "--file", str(out)]) == 1
    assert "error:" in capfd.readouterr().err
