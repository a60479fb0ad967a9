"""A scripted OpenAI-compatible server with known behaviour, for validating probes.

It answers ``/v1/completions`` and ``/v1/chat/completions`` on 127.0.0.1 with completions whose
pronoun rates and tone are set by rules, so a probe's estimates can be checked against the
truth (coverage of intervals, planted gaps, null false-discovery rates). It can also fail on
purpose: HTTP 500 for the first requests or for prompts with a marker, slow answers (client
timeouts), refusals and short answers. Standard library only; used by the tests and the
benchmark::

    with ScriptedServer(pronoun_rules={"nurse": {"female": 0.9, "male": 0.1}}) as srv:
        gen = OpenAICompatGenerator(srv.base_url, "scripted")
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import xxhash

_PRON = {
    "male": ("he", "his"),
    "female": ("she", "her"),
    "they": ("they", "their"),
    "neo": ("xe", "xyr"),
    "none": ("", ""),
}
_POS = "It was a wonderful, happy and successful day, and everyone admired the great work."
_NEG = "It was a terrible, sad and awful day, and everyone hated the bad work."


@dataclass
class ScriptedServer:
    """Serve scripted completions. Rules match a substring of the prompt (first match wins).

    ``pronoun_rules``: substring -> {class: probability} over male/female/they/neo/none
    (normalised). ``tone_rules``: substring -> probability of a positive (vs negative)
    sentence; ``default_positive`` otherwise. ``fail_first`` answers the first N requests with
    HTTP 500; prompts containing ``fail_marker`` always get 500, ``slow_marker`` sleep
    ``slow_seconds`` first, ``refuse_marker`` get a refusal, ``short_marker`` get one choice
    fewer than asked; ``max_choices`` caps the choices of every answer (a server that ignores
    ``n``). Sampling honours ``seed`` as vLLM and OpenAI do: the same prompt and seed give the
    same answers, other seeds (or none) independent draws.

    Focus groups: when a prompt names both ``preferred`` and ``other`` (two products shown as
    options), the answer is "Option k. ..." choosing ``preferred`` with the probability of the
    first matching ``preference_rules`` substring (``default_preference`` otherwise),
    whichever position it was shown in. ``chat_only`` answers ``/completions`` with 404, like
    chat-only deployments. Questions with options A/B/C (the ``qa`` probe): with probability
    ``qa_bias`` the answer names the option that is one of ``qa_targets``, otherwise "C"
    (cannot be determined).
    """

    pronoun_rules: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    tone_rules: Mapping[str, float] = field(default_factory=dict)
    default_pronouns: Mapping[str, float] = field(
        default_factory=lambda: {"male": 0.5, "female": 0.5}
    )
    default_positive: float = 0.5
    fail_first: int = 0
    fail_marker: str = "@@FAIL@@"
    slow_marker: str = "@@SLOW@@"
    refuse_marker: str = "@@REFUSE@@"
    short_marker: str = "@@SHORT@@"
    slow_seconds: float = 2.0
    max_choices: int | None = None
    preferred: str = ""
    other: str = ""
    preference_rules: Mapping[str, float] = field(default_factory=dict)
    default_preference: float = 0.5
    chat_only: bool = False
    qa_targets: tuple[str, ...] = ()
    qa_bias: float = 0.0
    requests: int = 0
    _httpd: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._send(400, {"error": {"message": "invalid JSON"}})
                chat = self.path.endswith("/chat/completions")
                if server.chat_only and not chat:
                    return self._send(404, {"error": {"message": "chat completions only"}})
                if not (chat or self.path.endswith("/completions")):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                try:
                    status, data = server._answer(body, chat)
                except Exception as exc:  # a bug in a rule must not hang the client
                    status, data = 500, {"error": {"message": f"server error: {exc}"}}
                self._send(status, data)

            def _send(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):  # client timed out
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour --------------------------------------------------------------------------

    def _answer(self, body: dict[str, Any], chat: bool) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            count = self.requests
        if chat:
            msgs = body.get("messages") or [{}]
            prompt = str(msgs[-1].get("content", ""))
        else:
            prompt = str(body.get("prompt", ""))
        if count <= self.fail_first or self.fail_marker in prompt:
            return 500, {"error": {"message": "scripted internal error"}}
        if self.slow_marker in prompt:
            time.sleep(self.slow_seconds)
        n = int(body.get("n", 1))
        if self.short_marker in prompt:
            n = max(0, n - 1)
        if self.max_choices is not None:
            n = min(n, self.max_choices)
        # like vLLM/OpenAI: a seeded request is reproducible (the same prompt and seed give the
        # same choices, the first choice not depending on n) and the n choices are independent
        # draws; an unseeded request is a fresh random draw
        if body.get("seed") is None:
            rng = np.random.default_rng()
        else:
            rng = np.random.default_rng(xxhash.xxh64_intdigest(f"{body['seed']}|{prompt}".encode()))
        texts = [self._text(prompt, rng) for _ in range(n)]
        if chat:
            choices = [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": t},
                    "finish_reason": "stop",
                }
                for i, t in enumerate(texts)
            ]
        else:
            choices = [
                {"index": i, "text": t, "finish_reason": "stop"} for i, t in enumerate(texts)
            ]
        return 200, {
            "id": f"cmpl-{count}",
            "object": "chat.completion" if chat else "text_completion",
            "model": body.get("model", "scripted"),
            "choices": choices,
            "usage": {"completion_tokens": 12 * n, "prompt_tokens": len(prompt.split())},
        }

    def _text(self, prompt: str, rng: np.random.Generator) -> str:
        if self.refuse_marker in prompt:
            return "I'm sorry, but I can't help with that."
        if "\nC. Cannot be determined" in prompt:
            options = dict(re.findall(r"\n([AB])\. ([^\n]+)", prompt))
            target = next((k for k, v in options.items() if v.lower() in self.qa_targets), None)
            if target is not None and rng.random() < self.qa_bias:
                return f" {target}"
            return " C"
        if self.preferred and self.preferred in prompt and self.other in prompt:
            share = next(
                (r for k, r in self.preference_rules.items() if k in prompt),
                self.default_preference,
            )
            wants = rng.random() < share
            first_is_preferred = prompt.find(self.preferred) < prompt.find(self.other)
            if "scale from 1 to 5" in prompt:  # Likert: 1 = Option 1 ... 5 = Option 2
                toward = int(rng.choice([4, 5])) if wants else int(rng.choice([1, 2]))
                rating = 6 - toward if first_is_preferred else toward
                return f" {rating}. It suits how I live."
            if "what do you honestly think of" in prompt:  # open answer about `preferred`
                return (
                    " I love it, a wonderful and great choice."
                    if wants
                    else " I dislike it, a terrible and bad choice."
                )
            return f" Option {1 if wants == first_is_preferred else 2}. It suits how I live."
        rates = next(
            (r for k, r in self.pronoun_rules.items() if k in prompt), self.default_pronouns
        )
        classes = list(rates)
        p = np.asarray([rates[c] for c in classes], dtype=np.float64)
        cls = classes[int(rng.choice(len(classes), p=p / p.sum()))]
        pos = next((r for k, r in self.tone_rules.items() if k in prompt), self.default_positive)
        tone = _POS if rng.random() < pos else _NEG
        subj, poss = _PRON[cls]
        if cls == "none":
            return f" went home. {tone}"
        return f" {subj} went home with {poss} bag. {tone}"
