"""The gateway with a local model: watermarked sampling, detection, batching, seeds."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from gateway_setups import local_watermarked_config

from probity.serve import ServerThread, create_app


@pytest.fixture
def local_gateway(tiny_model_dir: Path, tmp_path: Path) -> Iterator[tuple[ServerThread, Any]]:
    import torch

    from probity.watermark import new_key

    threads = torch.get_num_threads()
    key = new_key("gw-test")
    cfg = local_watermarked_config(
        tiny_model_dir, tmp_path, "gw-test", 128, max_batch=8, batch_wait_ms=20
    )
    app = create_app(cfg)
    with ServerThread(app) as srv:
        yield srv, (app, key)
    torch.set_num_threads(threads)


def test_watermark_is_detectable_in_returned_text(local_gateway: Any) -> None:
    srv, (_, key) = local_gateway
    client = openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0)
    resp = client.completions.create(
        model="tiny", prompt="The river", max_tokens=100, temperature=1.0, n=3, seed=11
    )
    ext = resp.model_extra["probity"]
    assert ext["watermark"]["scheme"] == "kgw" and ext["watermark"]["key_id"] == key.key_id
    assert key.secret.hex() not in json.dumps(resp.model_dump())  # the key never leaves
    # The answers together at a false-positive rate of 1e-4 (each long answer alone at
    # 1e-2, below). The key is random per test, so the biased sampling can hit end-of-text early;
    # answers under 50 scored tokens are only counted in the joint test. (Odd bytes do not
    # always re-tokenise the same way, which costs some green tokens; delta 4 leaves a wide
    # margin: z was 6-9.5 over 8 answers of 100 tokens.)
    texts = [c.text for c in resp.choices]
    detect = srv.base_url + "/watermark/detect"
    joint = httpx.post(detect, json={"text": " ".join(texts), "fpr": 1e-4}, timeout=30).json()
    assert joint["watermarked"] is True and joint["p_value"] < 1e-4, joint["z"]
    for text in texts:
        # each long answer on its own at 1e-2: with a random key per run, one answer in a few
        # runs scored z ~2.9 on 55 tokens (the tiny model's low-entropy stretches), which the
        # joint test above at 1e-4 absorbs but a per-answer 1e-4 test does not
        det = httpx.post(detect, json={"text": text, "fpr": 1e-2}, timeout=30).json()
        if det["scored"] >= 50:
            assert det["watermarked"] is True, (det["z"], det["scored"])
    human = (
        "The committee met on Tuesday to review the budget, and after a long discussion "
        "it agreed to postpone the decision on the new library until the spring."
    )
    det = httpx.post(srv.base_url + "/watermark/detect", json={"text": human}).json()
    assert det["watermarked"] is False
    bad = httpx.post(srv.base_url + "/watermark/detect", json={"text": ""})
    assert bad.status_code == 400


def test_concurrent_requests_share_batches_and_seeds_repeat(local_gateway: Any) -> None:
    srv, (app, _) = local_gateway
    client = openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0)
    backend = app.state.gateway.backend
    before = backend.batches
    out: list[str] = []

    def one(i: int) -> None:
        r = client.chat.completions.create(
            model="tiny", max_tokens=12, messages=[{"role": "user", "content": f"hello {i}"}]
        )
        out.append(r.choices[0].message.content)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 8
    assert backend.batches - before < 8  # at least two requests shared a generate call
    a = client.completions.create(model="tiny", prompt="The", max_tokens=16, seed=5)
    b = client.completions.create(model="tiny", prompt="The", max_tokens=16, seed=5)
    assert a.choices[0].text == b.choices[0].text
    text = ""
    for chunk in client.chat.completions.create(
        model="tiny",
        max_tokens=16,
        stream=True,
        seed=5,
        messages=[{"role": "user", "content": "hi"}],
    ):
        text += "".join(c.delta.content or "" for c in chunk.choices)
    assert text.strip()
    models = client.models.list()
    assert models.data[0].id == "tiny"
    assert models.data[0].model_extra["probity"]["watermark"]["scheme"] == "kgw"


def test_local_stream_is_token_level_and_matches_the_seeded_answer(local_gateway: Any) -> None:
    srv, (app, _) = local_gateway
    backend = app.state.gateway.backend
    client = openai.OpenAI(base_url=srv.base_url, api_key="unused", max_retries=0)
    kw: dict[str, Any] = {
        "model": "tiny",
        "messages": [{"role": "user", "content": "Tell me a story about a river."}],
        "max_tokens": 40,
        "seed": 5,
        "temperature": 1.0,
    }
    plain = client.chat.completions.create(**kw).choices[0].message.content
    before = backend.live_deltas
    text = ""
    for chunk in client.chat.completions.create(**kw, stream=True):
        for c in chunk.choices:
            text += c.delta.content or ""
    assert text == plain  # same seed, same text, streamed or not (watermark applied alike)
    assert backend.live_deltas - before >= 5  # pieces left while the model was generating
