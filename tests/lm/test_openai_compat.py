"""The OpenAI-compatible generator against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from probity.errors import BackendError, InputError
from probity.lm import GenerationParams, OpenAICompatGenerator, open_generator


class _State:
    def __init__(self) -> None:
        self.fail_next = 0  # answer HTTP 503 this many times before succeeding
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()


def _handler(state: _State):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
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
            with state.lock:
                state.requests.append((self.path, body))
                failing = state.fail_next > 0
                if failing:
                    state.fail_next -= 1
            if failing:
                self._send(503, {"error": {"message": "overloaded"}})
                return
            if body.get("model") == "forbidden":
                self._send(403, {"error": {"message": "model not allowed for this key"}})
                return
            n = body.get("n", 1)
            if self.path == "/v1/completions":
                choices = [
                    {"index": i, "text": f"{body['prompt']}|{i}", "finish_reason": "length"}
                    for i in range(n)
                ]
            elif self.path == "/v1/chat/completions":
                last = body["messages"][-1]["content"]
                choices = [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": f"re:{last}|{i}"},
                        "finish_reason": "stop",
                    }
                    for i in range(n)
                ]
            else:
                self._send(404, {"error": {"message": "no such route"}})
                return
            self._send(
                200, {"choices": choices, "usage": {"prompt_tokens": 3, "completion_tokens": 5}}
            )

    return Handler


@pytest.fixture()
def server() -> Iterator[tuple[str, _State]]:
    state = _State()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_completions_are_prompt_major_and_carry_usage(server):
    url, state = server
    gen = OpenAICompatGenerator(url, "m", api_key="sk-test", concurrency=3)
    out = gen.generate(
        ["a", "b", "c"], GenerationParams(max_new_tokens=5, n=2, seed=4, stop=("\n",))
    )
    assert [c.text for c in out] == ["a|0", "a|1", "b|0", "b|1", "c|0", "c|1"]
    assert [c.prompt_index for c in out] == [0, 0, 1, 1, 2, 2]
    assert out[0].finish_reason == "length" and out[0].completion_tokens == 5
    sent = state.requests[0][1]
    assert (
        sent["max_tokens"] == 5 and sent["seed"] == 4 and sent["stop"] == ["\n"] and sent["n"] == 2
    )


def test_chat_uses_the_chat_route(server):
    url, _ = server
    gen = open_generator("m", base_url=url)
    out = gen.chat([[{"role": "user", "content": "hi"}]])
    assert out[0].text == "re:hi|0" and out[0].finish_reason == "stop"


def test_transient_errors_are_retried_with_backoff(server):
    url, state = server
    state.fail_next = 2
    gen = OpenAICompatGenerator(url, "m", max_retries=3, backoff=0.01)
    assert gen.generate(["x"])[0].text == "x|0"
    assert len(state.requests) == 3


def test_persistent_and_client_errors_are_clear_backend_errors(server):
    url, state = server
    state.fail_next = 10
    gen = OpenAICompatGenerator(url, "m", max_retries=1, backoff=0.01)
    with pytest.raises(BackendError, match="failed after 2 attempts: HTTP 503: overloaded"):
        gen.generate(["x"])
    state.fail_next = 0
    before = len(state.requests)
    with pytest.raises(BackendError, match="HTTP 403: model not allowed"):
        OpenAICompatGenerator(url, "forbidden", backoff=0.01).generate(["x"])
    assert len(state.requests) == before + 1  # a 4xx is not retried


def test_unreachable_server_and_bad_url():
    gen = OpenAICompatGenerator(
        "http://127.0.0.1:9/v1", "m", max_retries=1, backoff=0.01, timeout=2
    )
    with pytest.raises(BackendError, match="cannot connect"):
        gen.generate(["x"])
    with pytest.raises(InputError):
        OpenAICompatGenerator("ftp://x", "m")
    with pytest.raises(InputError):
        gen.generate("a single string")
