"""The gateway's front door (pure ASGI, before FastAPI sees anything).

* gives every request an id (``scope["state"]["request_id"]``) and every response, errors
  included, an ``X-Request-Id`` header;
* reads a request body completely before the app runs, enforcing ``max_body_bytes`` (HTTP
  413, declared or chunked) and ``body_timeout_s`` (HTTP 408 for a client that never finishes
  its body), so no handler waits on a slow client and every refusal is OpenAI-shaped.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from probity.serve.errors import GatewayError

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class FrontDoor:
    def __init__(self, app: Any, *, max_body_bytes: int, body_timeout_s: float) -> None:
        self.app = app
        self.limit = max_body_bytes
        self.timeout = body_timeout_s

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = "req-" + secrets.token_hex(12)
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(msg: dict[str, Any]) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                headers = list(msg.get("headers") or ())
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid.encode()))
                msg = {**msg, "headers": headers}
            await send(msg)

        if scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send_with_id)
            return
        for k, v in scope.get("headers", ()):
            if k == b"content-length" and v.isdigit() and int(v) > self.limit:
                await _reject(send_with_id, 413, f"request body over {self.limit} bytes")
                return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        parts: list[bytes] = []
        seen = 0
        while True:
            try:
                msg = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                await _reject(
                    send_with_id,
                    408,
                    f"the request body was not received within {self.timeout:g} s",
                )
                return
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await _reject(send_with_id, 413, f"request body over {self.limit} bytes")
                return
            parts.append(chunk)
            if not msg.get("more_body"):
                break
        body = b"".join(parts)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_id)


async def send_json(
    send: Any, status: int, obj: Any, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    """Send a whole JSON response through a raw ASGI ``send``."""
    body = json.dumps(obj).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _reject(send: Any, status: int, message: str) -> None:
    code = {408: "request_timeout", 413: "request_too_large"}.get(status)
    err = GatewayError(status, message, code=code).body()
    await send_json(send, status, err, ((b"connection", b"close"),))
