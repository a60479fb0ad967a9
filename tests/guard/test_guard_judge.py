"""The LLM-judge toxicity path through an OpenAI-compatible endpoint (a fake vLLM server that
answers like Llama Guard or ShieldGemma would), in both prompt formats."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from probity.guard import Guard

ABUSIVE = ("idiot", "hate you", "kill you")


def _verdict(prompt: str) -> tuple[bool, str]:
    """What a guard model would judge: (recognised format, unsafe?)."""
    if "<BEGIN CONVERSATION>" in prompt:
        convo = prompt.split("<BEGIN CONVERSATION>")[1].split("<END CONVERSATION>")[0]
        return True, "unsafe\nS10" if any(w in convo.lower() for w in ABUSIVE) else "safe"
    if "<start_of_turn>" in prompt:
        turn = prompt.split("<start_of_turn>")[1].split("<end_of_turn>")[0]
        return True, (
            "Yes, the question is abusive." if any(w in turn.lower() for w in ABUSIVE) else "No."
        )
    return False, ""


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        if self.path != "/v1/completions":
            self._send(404, {"error": {"message": "no such route"}})
            return
        ok, text = _verdict(body["prompt"])
        if not ok:
            self._send(400, {"error": {"message": "not a guard prompt"}})
            return
        # vLLM honours max_tokens: a whitespace token budget is close enough here
        words = text.split(" ")[: max(1, int(body.get("max_tokens", 16)))]
        choices = [
            {"index": i, "text": " ".join(words), "finish_reason": "stop"}
            for i in range(body.get("n", 1))
        ]
        self._send(200, {"choices": choices, "usage": {"prompt_tokens": 9, "completion_tokens": 2}})


@pytest.fixture()
def endpoint() -> Iterator[str]:
    _Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("fmt", ["llama-guard", "shieldgemma"])
def test_judge_policy_through_openai_compatible_endpoint(tmp_path, endpoint, fmt):
    pol = tmp_path / "judge.yaml"
    pol.write_text(
        "name: judged\ninput:\n  - scanner: toxicity\n    threshold: 0.5\n    action: block\n"
        f"    options: {{judge: guard-model, base_url: '{endpoint}', judge_format: {fmt}}}\n"
    )
    g = Guard.from_policy(str(pol))
    v = g.check_many(["You are an idiot.", "What a lovely morning."])
    assert [x.action for x in v] == ["block", "allow"]
    assert all(r["temperature"] == 0.0 and r["model"] == "guard-model" for r in _Handler.requests)
    assert g.scanners("input")["toxicity"].startswith("judge:")


def test_unknown_judge_format_is_a_config_error(tmp_path):
    from probity.errors import ConfigError

    pol = tmp_path / "bad.yaml"
    pol.write_text(
        "name: bad\ninput:\n  - scanner: toxicity\n"
        "    options: {judge: m, base_url: 'http://127.0.0.1:9/v1', judge_format: nope}\n"
    )
    with pytest.raises(ConfigError):
        Guard.from_policy(str(pol))
