"""Issue 20, the gateway's C2PA option from the inside: blocked answers, streams under
``always``, the configuration's identity files and its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from gateway_setups import start_upstream_gateway

from probity.errors import ConfigError, InputError
from probity.serve.config import ContentCredentialsConfig, load_gateway_config
from probity.serve.credentials import CredentialSigner
from probity.watermark.content_credentials import new_signing_identity

pytest.importorskip("c2pa", reason="the c2pa extra (c2pa-python) is not installed")
c2pa_text = pytest.importorskip("c2pa_text", reason="the c2pa extra (c2pa-text) is not installed")

ASK = {"X-Probity-C2PA": "true"}
BLOCK_SECRETS = "name: secrets-block\noutput:\n  - scanner: secrets\n    action: block\n"


def test_blocked_answer_is_not_credited_and_the_audit_says_so(tmp_path: Path, up: Any) -> None:
    policy = tmp_path / "block.yaml"
    policy.write_text(BLOCK_SECRETS)
    up[1].reply = "The key is AKIAIOSFODNN7EXAMPLE, keep it."
    srv = start_upstream_gateway(tmp_path, up[0], policy=str(policy))
    try:
        r = openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0)
        out = r.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "hi"}], extra_headers=ASK
        )
    finally:
        srv.stop()
    assert out.choices[0].finish_reason == "content_filter"
    assert out.choices[0].message.content == ""
    assert out.model_extra["probity"]["content_credentials"]["attached"] == 0
    rec = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert rec["content_credentials"] is False and rec["content_credentials_attached"] == 0


def test_always_leaves_streams_unsigned_and_says_so_in_the_audit(tmp_path: Path, up: Any) -> None:
    up[1].reply = "A short streamed answer."
    srv = start_upstream_gateway(tmp_path, up[0], content_credentials={"always": True})
    try:
        c = openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0)
        text = "".join(
            ch.choices[0].delta.content or ""
            for ch in c.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            if ch.choices
        )
    finally:
        srv.stop()
    assert text == "A short streamed answer."
    assert c2pa_text.find_wrapper_info(text) is None
    rec = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert rec["stream"] is True and rec["content_credentials"] is False


def test_identity_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both chain and private_key"):
        ContentCredentialsConfig(chain="chain.pem")
    with pytest.raises(ValueError, match="always needs enabled"):
        ContentCredentialsConfig(enabled=False, always=True)
    missing = ContentCredentialsConfig(chain=str(tmp_path / "no.pem"), private_key="no.key")
    with pytest.raises(InputError, match="C2PA signing identity"):
        CredentialSigner(missing).load()  # at start-up, not on the first request


def test_identity_paths_relative_to_the_config_file(tmp_path: Path) -> None:
    ident = new_signing_identity("Relative signer")
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "chain.pem").write_text(ident.chain_pem)
    (conf / "key.pem").write_text(ident.private_key_pem)
    (conf / "gateway.yaml").write_text(
        "backend:\n  kind: upstream\n  base_url: http://127.0.0.1:9/v1\n  model: echo\n"
        "content_credentials:\n  chain: chain.pem\n  private_key: key.pem\n"
    )
    cfg = load_gateway_config(conf / "gateway.yaml")
    signer = CredentialSigner(cfg.content_credentials)
    signer.load()
    assert signer.identity().chain_pem == ident.chain_pem
    (conf / "bad.yaml").write_text("content_credentials:\n  private_key: key.pem\n")
    with pytest.raises(ConfigError):
        load_gateway_config(conf / "bad.yaml")
