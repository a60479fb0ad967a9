"""Issue 20: the gateway attaches C2PA content credentials on request (written from the issue
and docs/gateway.md / docs/watermark.md before reading the gateway's code).

A real uvicorn gateway in front of the vLLM-like fake upstream (and the tiny local model for
the watermark parameters), the official openai SDK as the client, and the c2pa library (via
``verify_content_credentials`` and the ``probity watermark c2pa-verify`` CLI in a fresh
process) as the verifier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
from gateway_setups import ASK_C2PA, local_watermarked_config, require_c2pa, start_upstream_gateway

from probity.errors import TamperedError
from probity.serve import ServerThread, create_app
from probity.watermark.content_credentials import (
    load_or_create_identity,
    verify_content_credentials,
)

c2pa_text = require_c2pa()
ASK = ASK_C2PA
ANSWER = "The committee met on Tuesday and agreed the budget for next year."


def _client(srv: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.base_url, api_key="unused", max_retries=0)


def _audit(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]


def _ca() -> str:
    return load_or_create_identity().ca_pem


def test_chat_answer_with_credentials_verifies_and_keeps_the_visible_text(
    tmp_path: Path, up: Any
) -> None:
    up[1].reply = ANSWER
    srv = start_upstream_gateway(tmp_path, up[0])
    try:
        c = _client(srv)
        msgs = [{"role": "user", "content": "What happened at the meeting?"}]
        plain = c.chat.completions.create(model="echo", messages=msgs)
        credited = c.chat.completions.create(model="echo", messages=msgs, extra_headers=ASK)
    finally:
        srv.stop()
    text = credited.choices[0].message.content
    assert plain.choices[0].message.content == ANSWER  # without the option: untouched
    assert c2pa_text.find_wrapper_info(plain.choices[0].message.content) is None
    assert text != ANSWER and text.startswith(ANSWER)
    cred = verify_content_credentials(text, trust_anchors=_ca())
    assert cred.text == ANSWER
    assert cred.ai_generated and cred.trusted
    meta = credited.model_extra["probity"]["content_credentials"]
    assert meta["attached"] == 1
    assert "content_credentials" not in plain.model_extra["probity"] or (
        plain.model_extra["probity"]["content_credentials"]["attached"] == 0
    )
    recs = _audit(tmp_path)
    assert [r["content_credentials"] for r in recs] == [False, True]


def _credited_chat(srv: ServerThread) -> str:
    try:
        r = _client(srv).chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "hi"}], extra_headers=ASK
        )
    finally:
        srv.stop()
    return r.choices[0].message.content


def _refused(srv: ServerThread, **kw: Any) -> dict[str, Any]:
    """The error body of a chat request the gateway answers with HTTP 400."""
    try:
        with pytest.raises(openai.BadRequestError) as ei:
            _client(srv).chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "hi"}], **kw
            )
    finally:
        srv.stop()
    return ei.value.body


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t, w: t[:5] + "X" + t[6:],  # one visible character changed
        lambda t, w: "Note: " + t,  # text prepended
        lambda t, w: ANSWER.replace("Tuesday", "Friday") + t[len(ANSWER) :],  # word swapped
        lambda t, w: "Some other text entirely." + t[len(ANSWER) :],  # manifest moved
    ],
    ids=["char", "prepend", "word", "moved"],
)
def test_tampered_credited_text_fails_verification(tmp_path: Path, up: Any, tamper: Any) -> None:
    up[1].reply = ANSWER
    srv = start_upstream_gateway(tmp_path, up[0])
    text = _credited_chat(srv)
    verify_content_credentials(text, trust_anchors=_ca())  # the untouched text verifies
    with pytest.raises(TamperedError):
        verify_content_credentials(tamper(text, None), trust_anchors=_ca())


def test_completions_every_choice_credited(tmp_path: Path, up: Any) -> None:
    srv = start_upstream_gateway(tmp_path, up[0])
    try:
        r = _client(srv).completions.create(
            model="echo",
            prompt="ECHO: the answer here.",
            n=3,
            extra_headers=ASK,
        )
    finally:
        srv.stop()
    assert len(r.choices) == 3
    for ch in r.choices:  # each choice carries its own manifest
        cred = verify_content_credentials(ch.text, trust_anchors=_ca())
        assert cred.ai_generated and cred.text == "the answer here."
    assert r.model_extra["probity"]["content_credentials"]["attached"] == 3
    assert _audit(tmp_path)[-1]["content_credentials"] is True


def test_stream_asking_for_credentials_is_a_clear_400(tmp_path: Path, up: Any) -> None:
    err = _refused(start_upstream_gateway(tmp_path, up[0]), stream=True, extra_headers=ASK)
    assert err["param"] == "stream"
    assert "content credentials" in err["message"].lower()
    assert not up[1].bodies  # refused before the upstream was called


def test_bad_header_value_is_a_400(tmp_path: Path, up: Any) -> None:
    srv = start_upstream_gateway(tmp_path, up[0])
    err = _refused(srv, extra_headers={"X-Probity-C2PA": "maybe"})
    assert "X-Probity-C2PA" in err["message"]


def test_config_always_attaches_without_asking_and_false_header_opts_out(
    tmp_path: Path, up: Any
) -> None:
    up[1].reply = ANSWER
    srv = start_upstream_gateway(tmp_path, up[0], content_credentials={"always": True})
    try:
        c = _client(srv)
        msgs = [{"role": "user", "content": "hi"}]
        r = c.chat.completions.create(model="echo", messages=msgs)
        off = c.chat.completions.create(
            model="echo", messages=msgs, extra_headers={"X-Probity-C2PA": "false"}
        )
    finally:
        srv.stop()
    assert verify_content_credentials(r.choices[0].message.content, trust_anchors=_ca()).text == (
        ANSWER
    )
    assert off.choices[0].message.content == ANSWER


def test_config_disabled_refuses_requests_for_credentials(tmp_path: Path, up: Any) -> None:
    srv = start_upstream_gateway(tmp_path, up[0], content_credentials={"enabled": False})
    assert "does not attach" in _refused(srv, extra_headers=ASK)["message"]


def test_deployer_identity_files_sign_the_answers(tmp_path: Path, up: Any) -> None:
    from probity.watermark.content_credentials import new_signing_identity

    ident = new_signing_identity("Example Corp C2PA signer")
    (tmp_path / "chain.pem").write_text(ident.chain_pem)
    (tmp_path / "key.pem").write_text(ident.private_key_pem)
    up[1].reply = ANSWER
    srv = start_upstream_gateway(
        tmp_path,
        up[0],
        content_credentials={
            "chain": str(tmp_path / "chain.pem"),
            "private_key": str(tmp_path / "key.pem"),
        },
    )
    text = _credited_chat(srv)
    assert verify_content_credentials(text, trust_anchors=ident.ca_pem).trusted
    # the home's own local CA did not sign it
    with pytest.raises(TamperedError):
        verify_content_credentials(text, trust_anchors=_ca())


def test_local_watermarked_answer_carries_its_parameters_and_verifies_in_a_new_process(
    tiny_model_dir: Path, tmp_path: Path, probity_home: Path
) -> None:
    import torch

    from probity.watermark import new_key

    threads = torch.get_num_threads()
    new_key("c2pa-gw")
    cfg = local_watermarked_config(tiny_model_dir, tmp_path, "c2pa-gw", 32)
    try:
        with ServerThread(create_app(cfg)) as srv:
            r = openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0).completions.create(
                model="tiny", prompt="Once upon a time", max_tokens=24, seed=3, extra_headers=ASK
            )
    finally:
        torch.set_num_threads(threads)
    text = r.choices[0].text
    wm = r.model_extra["probity"]["watermark"]
    cred = verify_content_credentials(text, trust_anchors=_ca())
    assert cred.watermark == wm and cred.watermark["scheme"] == "kgw"
    f = tmp_path / "answer.txt"
    f.write_text(text, encoding="utf-8")
    env = {**os.environ, "PROBITY_HOME": str(probity_home)}
    out = subprocess.run(
        [sys.executable, "-m", "probity", "watermark", "c2pa-verify", "--file", str(f), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["valid"] and got["ai_generated"] and got["trusted"]
    f.write_text(text.replace(text[0], "Z", 1) if text[0] != "Z" else "Y" + text[1:])
    bad = subprocess.run(
        [sys.executable, "-m", "probity", "watermark", "c2pa-verify", "--file", str(f)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 1
