"""A fake OpenAI-compatible upstream that behaves like vLLM's server where the gateway cares.

It honours ``seed`` (same seed, same text), ``n``, ``stop``, ``max_tokens`` /
``max_completion_tokens`` (``finish_reason: length``), ``stream`` with
``stream_options.include_usage``, returns ``usage``, validates like vLLM (seed must fit a signed
64-bit integer, n >= 1, an unknown model is 404) and answers errors in OpenAI's shape. Tests steer
it with attributes:

- ``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` get 401.
- ``mode``: ``ok`` | ``html200`` (200 with an HTML page, as a misconfigured proxy sends) |
  ``status:NNN`` (an OpenAI-shaped error with that status) | ``stall`` (never answers).
- ``reply``: the text to answer (default: seeded words; ``ECHO:`` in the last user turn echoes).
- ``token_delay_s``: seconds between streamed tokens (vLLM sends one token per event).

Every request body it receives is kept in ``bodies`` so tests can see what reached it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

WORDS = [
    "the",
    "river",
    "runs",
    "past",
    "old",
    "mills",
    "and",
    "quiet",
    "fields",
    "toward",
    "a",
    "wide",
    "grey",
    "sea",
]
INT64 = 2**63


class FakeVLLM:
    def __init__(self, model: str = "echo") -> None:
        self.model = model
        self.api_key: str | None = None
        self.mode = "ok"
        self.reply: str | None = None
        self.token_delay_s = 0.0
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    def reset(self) -> None:
        self.__init__(self.model)  # type: ignore[misc]

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        path = scope["path"]
        models = path.endswith("/models")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return await self._error(send, 400, "invalid JSON body")
        if not models:
            self.bodies.append(req)
            self.headers.append(headers)
        if self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
            return await self._error(send, 401, "Incorrect API key provided", "invalid_api_key")
        if self.mode == "stall":
            await asyncio.sleep(3600)
        if self.mode.startswith("status:"):
            status = int(self.mode.split(":")[1])
            extra = ((b"retry-after", b"7"),) if status == 429 else ()
            return await self._error(send, status, "upstream says no", headers=extra)
        if self.mode == "html200":
            page = b"<html><body><h1>Welcome to nginx!</h1></body></html>"
            return await self._raw(send, 200, page, b"text/html")
        if models:
            return await self._json(send, 200, {"object": "list", "data": [{"id": self.model}]})
        if req.get("model") != self.model:
            return await self._error(send, 404, f"The model `{req.get('model')}` does not exist.")
        seed = req.get("seed")
        if seed is not None and (not isinstance(seed, int) or not -INT64 <= seed < INT64):
            return await self._error(send, 400, "seed must be a 64-bit integer")
        n = req.get("n", 1)
        if not isinstance(n, int) or n < 1:
            return await self._error(send, 400, "n must be at least 1")
        chat = path.endswith("/chat/completions")
        prompt = self._prompt(req, chat)
        rng = random.Random(seed)
        limit = req.get("max_completion_tokens") or req.get("max_tokens") or 10_000
        choices = []
        for i in range(n):
            text, finish = self._answer(prompt, rng, limit, req.get("stop"))
            choices.append((i, text, finish))
        p_tok = len(prompt.split())
        c_tok = sum(len(t.split()) for _, t, _ in choices)
        usage = {"prompt_tokens": p_tok, "completion_tokens": c_tok, "total_tokens": p_tok + c_tok}
        rid = f"cmpl-{int(time.time() * 1e6)}"
        if req.get("stream"):
            return await self._stream(send, req, chat, rid, choices, usage)
        out = {
            "id": rid,
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                (
                    {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": f}
                    if chat
                    else {"index": i, "text": t, "finish_reason": f}
                )
                for i, t, f in choices
            ],
            "usage": usage,
        }
        await self._json(send, 200, out)

    # -- behaviour --------------------------------------------------------------------------
    @staticmethod
    def _prompt(req: dict[str, Any], chat: bool) -> str:
        if not chat:
            p = req.get("prompt", "")
            return p if isinstance(p, str) else " ".join(map(str, p))
        parts = []
        for m in req.get("messages", []):
            c = m.get("content")
            if isinstance(c, list):
                c = " ".join(p.get("text", "") for p in c if isinstance(p, dict))
            parts.append(str(c or ""))
        return "\n".join(parts)

    def _answer(self, prompt: str, rng: random.Random, limit: int, stop: Any) -> tuple[str, str]:
        if self.reply is not None:
            text = self.reply
        elif "ECHO:" in prompt:
            text = prompt.rsplit("ECHO:", 1)[1].strip()
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(12)) + "."
        finish = "stop"
        for s in [stop] if isinstance(stop, str) else (stop or []):
            if s and s in text:
                text = text[: text.index(s)]
        words = text.split(" ")
        if len(words) > limit:
            text, finish = " ".join(words[:limit]), "length"
        return text, finish

    async def _stream(
        self,
        send: Any,
        req: dict[str, Any],
        chat: bool,
        rid: str,
        choices: list[tuple[int, str, str]],
        usage: dict[str, int],
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        obj = "chat.completion.chunk" if chat else "text_completion"

        async def event(payload: dict[str, Any]) -> None:
            data = b"data: " + json.dumps(payload).encode() + b"\n\n"
            await send({"type": "http.response.body", "body": data, "more_body": True})

        def chunk(i: int, text: str | None, finish: str | None) -> dict[str, Any]:
            if chat:
                delta = {} if text is None else {"content": text}
                c = {"index": i, "delta": delta, "finish_reason": finish}
            else:
                c = {"index": i, "text": text or "", "finish_reason": finish}
            return {"id": rid, "object": obj, "model": self.model, "choices": [c]}

        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        for i, text, finish in choices:
            toks = text.split(" ")
            for k, tok in enumerate(toks):
                await event(chunk(i, tok if k == 0 else " " + tok, None))
                if self.token_delay_s:
                    await asyncio.sleep(self.token_delay_s)
            await event(chunk(i, None, finish))
        if include_usage:
            await event(
                {"id": rid, "object": obj, "model": self.model, "choices": [], "usage": usage}
            )
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})

    async def _error(
        self, send: Any, status: int, message: str, code: str | None = None, headers: Any = ()
    ) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        err = {"error": {"message": message, "type": kind, "code": code}}
        await self._raw(send, status, json.dumps(err).encode(), b"application/json", headers)

    async def _json(self, send: Any, status: int, obj: Any) -> None:
        await self._raw(send, status, json.dumps(obj).encode(), b"application/json")

    @staticmethod
    async def _raw(send: Any, status: int, body: bytes, ctype: bytes, headers: Any = ()) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", ctype), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})
