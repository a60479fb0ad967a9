"""An instant OpenAI-compatible upstream for tests, benchmarks and the demo (loopback only).

It answers ``/v1/chat/completions`` and ``/v1/completions`` (streaming too) without a model:
the answer is ``reply`` when set, else the last user message (or prompt) after ``ECHO:`` if
it contains that marker, else a fixed sentence. So a test can make the "model" say something
exact (``"ECHO: call me at 555-0100"``) and check what the gateway does with it. A pure ASGI
app (no framework) so that it adds next to nothing to what a benchmark measures;
``token_delay_s`` spaces streamed pieces out like a model decoding (for time-to-first-token
measurements).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from probity.serve.asgi import send_json

DEFAULT_ANSWER = "The river is quiet this morning. The garden is green after the rain."
MARKER = "ECHO:"


def _answer(body: dict[str, Any], reply: str | None) -> str:
    if reply is not None:
        return reply
    if "messages" in body:
        users = [m.get("content") or "" for m in body["messages"] if m.get("role") == "user"]
        text = users[-1] if users else ""
    else:
        p = body.get("prompt", "")
        text = p[0] if isinstance(p, list) and p else str(p)
    if isinstance(text, str) and MARKER in text:
        return text.split(MARKER, 1)[1].strip()
    return DEFAULT_ANSWER


def _pieces(text: str) -> list[str]:
    out, start = [], 0
    while start < len(text):
        end = text.find(" ", start + 1)
        end = len(text) if end == -1 else end
        out.append(text[start:end])
        start = end
    return out


class EchoUpstream:
    """The ASGI app. ``requests`` counts the completion requests it answered."""

    def __init__(
        self, reply: str | None = None, model: str = "echo", token_delay_s: float = 0.0
    ) -> None:
        self.reply = reply
        self.model = model
        self.token_delay_s = token_delay_s  # between streamed pieces, like a model decoding
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks = []
        while True:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        path = scope["path"]
        if path == "/v1/models":
            await self._json(
                send, {"object": "list", "data": [{"id": self.model, "object": "model"}]}
            )
            return
        if path not in ("/v1/chat/completions", "/v1/completions"):
            await self._json(send, {"error": {"message": f"no route {path}"}}, 404)
            return
        try:
            body = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            await self._json(send, {"error": {"message": "invalid JSON"}}, 400)
            return
        self.requests += 1
        chat = path.endswith("chat/completions")
        text = _answer(body, self.reply)
        n = int(body.get("n") or 1)
        prompt = body.get("prompt")
        if not chat and isinstance(prompt, list):
            n *= max(1, len(prompt))  # one block of n choices per prompt
        created = int(time.time())
        if body.get("stream"):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
            for i in range(n):
                for piece in _pieces(text):
                    ch: dict[str, Any] = (
                        {"index": i, "delta": {"content": piece}}
                        if chat
                        else {"index": i, "text": piece}
                    )
                    ch["finish_reason"] = None
                    await self._event(
                        send,
                        {
                            "id": "echo",
                            "object": "chunk",
                            "created": created,
                            "model": self.model,
                            "choices": [ch],
                        },
                    )
                    if self.token_delay_s:
                        await asyncio.sleep(self.token_delay_s)
                end: dict[str, Any] = (
                    {"index": i, "delta": {}} if chat else {"index": i, "text": ""}
                )
                end["finish_reason"] = "stop"
                await self._event(
                    send,
                    {
                        "id": "echo",
                        "object": "chunk",
                        "created": created,
                        "model": self.model,
                        "choices": [end],
                    },
                )
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
            return
        choices = [
            (
                {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
                if chat
                else {"index": i, "text": text, "finish_reason": "stop"}
            )
            for i in range(n)
        ]
        words = len(text.split())
        await self._json(
            send,
            {
                "id": "echo",
                "object": "chat.completion" if chat else "text_completion",
                "created": created,
                "model": self.model,
                "choices": choices,
                "usage": {
                    "prompt_tokens": 1,
                    "completion_tokens": words * n,
                    "total_tokens": 1 + words * n,
                },
            },
        )

    @staticmethod
    async def _event(send: Any, obj: dict[str, Any]) -> None:
        await send(
            {
                "type": "http.response.body",
                "more_body": True,
                "body": b"data: " + json.dumps(obj).encode() + b"\n\n",
            }
        )

    @staticmethod
    async def _json(send: Any, obj: dict[str, Any], status: int = 200) -> None:
        await send_json(send, status, obj)
