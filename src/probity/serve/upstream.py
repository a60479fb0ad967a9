"""The upstream backend: OpenAI-compatible endpoints reached with ``httpx.AsyncClient``.

Streaming is passed through chunk by chunk. Connect errors (nothing was sent) are retried with
backoff; then the next endpoint is tried: ``backend.fallbacks`` lists more endpoints for the
same model, tried in order on a connect failure or an HTTP 5xx (an answer the upstream failed
to give; a timeout after the request was sent is not retried, the upstream may still be doing
the work). With fallbacks, a background task checks every endpoint's ``GET /models`` every
``health_interval_s`` seconds; endpoints that failed their last check or request are tried
last. Errors are :class:`~probity.serve.errors.UpstreamError` (502, or 504 for a timeout)
whose message never holds an upstream's address. A 200 answer that is not JSON (or, streaming,
not an event stream) is a 502: a proxy's HTML page is not an empty completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from probity.serve.backends import Choice, Delta, Generation, GenRequest
from probity.serve.config import BackendConfig
from probity.serve.errors import UpstreamError
from probity.text import tokenize

log = logging.getLogger("probity.serve")

#: Upstream 4xx statuses that describe the client's request and are passed on; any other
#: (401/403/407: the gateway's own credentials; 5xx) becomes 502, so a client is never told
#: that its key is wrong when the upstream rejected the gateway's.
PASSED_ON = frozenset({400, 404, 409, 413, 422, 429})


class UpstreamHTTPError(UpstreamError):
    """The upstream answered with an HTTP error."""

    def __init__(self, status: int, message: str, retry_after: str | None = None) -> None:
        if status in PASSED_ON:
            super().__init__(
                f"upstream answered HTTP {status}: {message}",
                status=status,
                code="upstream_rejected",
            )
        elif status in (401, 403, 407):
            super().__init__(
                f"the upstream refused the gateway's credentials (HTTP {status})",
                detail=message,
            )
        else:
            super().__init__(f"the upstream failed (HTTP {status})", detail=message)
        self.upstream_status = status
        if retry_after and retry_after.isdigit() and status == 429:
            self.headers = {"Retry-After": retry_after}


@dataclass
class Endpoint:
    """One upstream: its ``/v1`` base URL, the ``Authorization`` header, its last health."""

    base_url: str
    headers: dict[str, str]
    healthy: bool = True


class UpstreamBackend:
    """OpenAI-compatible endpoints for one model, reached with ``httpx.AsyncClient``."""

    streams_natively = True

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 120.0,
        connect_retries: int = 2,
        max_connections: int = 128,
        backoff_s: float = 0.05,
        transport: httpx.AsyncBaseTransport | None = None,
        fallbacks: tuple[tuple[str, str | None], ...] = (),
        health_interval_s: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.connect_retries = connect_retries
        self.backoff_s = backoff_s
        self.endpoints = [
            Endpoint(u.rstrip("/"), {"Authorization": f"Bearer {k}"} if k else {})
            for u, k in ((base_url, api_key), *fallbacks)
        ]
        self.health_interval_s = health_interval_s
        self._health: asyncio.Task[None] | None = None
        headers = {"Content-Type": "application/json"}
        if transport is None:
            # TCP_NODELAY: httpcore writes headers and body in two sends; with Nagle on, the
            # body waits for the peer's delayed ACK (40 ms on Linux) on every request.
            transport = httpx.AsyncHTTPTransport(
                retries=0,
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                limits=httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                ),
            )
        self._client = httpx.AsyncClient(
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    @classmethod
    def from_config(cls, cfg: BackendConfig) -> UpstreamBackend:
        def key(env: str | None) -> str | None:
            return os.environ.get(env) if env else None

        assert cfg.base_url is not None
        return cls(
            cfg.base_url,
            cfg.name,
            api_key=key(cfg.api_key_env),
            connect_timeout_s=cfg.connect_timeout_s,
            read_timeout_s=cfg.read_timeout_s,
            connect_retries=cfg.connect_retries,
            max_connections=cfg.max_connections,
            fallbacks=tuple((f.base_url, key(f.api_key_env)) for f in cfg.fallbacks),
            health_interval_s=cfg.health_interval_s,
        )

    def count_tokens(self, text: str) -> int:
        """An upper-leaning estimate (the upstream's tokenizer is not known here): the larger
        of Probity's word tokens and UTF-8 bytes / 4, so one 600 KB "word" counts as 150,000
        tokens, not one."""
        if not text:
            return 0
        return max(len(tokenize(text)), -(-len(text.encode("utf-8", "surrogatepass")) // 4))

    async def aclose(self) -> None:
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        await self._client.aclose()

    # health -----------------------------------------------------------------------------

    def _ensure_health_checks(self) -> None:
        if len(self.endpoints) > 1 and (self._health is None or self._health.done()):
            self._health = asyncio.get_running_loop().create_task(self._health_loop())

    async def check_health(self) -> list[bool]:
        """``GET /models`` on every endpoint now; returns (and records) who answered 200."""

        async def one(ep: Endpoint) -> bool:
            try:
                r = await self._client.get(
                    ep.base_url + "/models",
                    headers=ep.headers,
                    timeout=min(5.0, self.health_interval_s),
                )
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok != ep.healthy:
                log.warning(
                    "upstream #%d is %s",
                    self.endpoints.index(ep),
                    "healthy again" if ok else "unhealthy",
                )
            ep.healthy = ok
            return ok

        return list(await asyncio.gather(*(one(ep) for ep in self.endpoints)))

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval_s)
            await self.check_health()

    def _order(self) -> list[Endpoint]:
        """Healthy endpoints first, in configured order."""
        return sorted(self.endpoints, key=lambda ep: not ep.healthy)

    def _body(self, req: GenRequest, stream: bool) -> dict[str, Any]:
        p = req.params
        body: dict[str, Any] = {
            **req.extra,
            "model": self.name,
            req.max_tokens_field: p.max_new_tokens,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "n": p.n,
            "stream": stream,
        }
        if stream:
            # Always ask for usage (token budgets need it); the client sees it only if it asked.
            body["stream_options"] = {"include_usage": True}
        if p.seed is not None:
            body["seed"] = p.seed
        if p.stop:
            body["stop"] = list(p.stop)
        if req.kind == "chat":
            body["messages"] = list(req.inputs[0])
        else:
            body["prompt"] = req.inputs[0] if len(req.inputs) == 1 else list(req.inputs)
        return body

    def _path(self, req: GenRequest) -> str:
        return "/chat/completions" if req.kind == "chat" else "/completions"

    async def _send(self, req: GenRequest, stream: bool) -> httpx.Response:
        """POST the request to the first endpoint that takes it (see the module docstring)."""
        self._ensure_health_checks()
        body = self._body(req, stream)
        order = self._order()
        last: UpstreamError | None = None
        for n, ep in enumerate(order):
            try:
                return await self._send_to(ep, req, body, stream)
            except UpstreamError as exc:
                failover = exc.code == "upstream_unreachable" or (
                    isinstance(exc, UpstreamHTTPError) and exc.upstream_status >= 500
                )
                if not failover:
                    raise
                ep.healthy = False
                last = exc
                if n + 1 < len(order):
                    log.warning("upstream #%d failed (%s); trying the next", n, exc)
        assert last is not None
        raise last

    async def _send_to(
        self, ep: Endpoint, req: GenRequest, body: dict[str, Any], stream: bool
    ) -> httpx.Response:
        url = ep.base_url + self._path(req)
        last = ""
        for attempt in range(self.connect_retries + 1):
            try:
                request = self._client.build_request("POST", url, json=body, headers=ep.headers)
                resp = await self._client.send(request, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the upstream: safe to try again.
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt < self.connect_retries:
                    await asyncio.sleep(self.backoff_s * (2**attempt))
                continue
            except httpx.TimeoutException as exc:
                raise UpstreamError(
                    "the upstream did not answer in time (not retried: the request was sent)",
                    status=504,
                    code="upstream_timeout",
                    detail=f"{url}: {type(exc).__name__}",
                ) from exc
            except httpx.HTTPError as exc:
                raise UpstreamError(
                    f"the upstream connection failed ({type(exc).__name__})",
                    detail=f"{url}: {exc}",
                ) from exc
            if resp.status_code >= 400:
                await resp.aread()
                await resp.aclose()
                raise UpstreamHTTPError(
                    resp.status_code, _error_message(resp), resp.headers.get("retry-after")
                )
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            want = "text/event-stream" if stream else "application/json"
            if ctype != want and not (stream and ctype == "application/json"):
                await resp.aclose()
                raise UpstreamError(
                    f"the upstream answered HTTP {resp.status_code} with {ctype or 'no type'}, "
                    f"not {want} (a proxy or login page in the way?)",
                    detail=url,
                )
            ep.healthy = True
            return resp
        raise UpstreamError(
            f"the upstream is unreachable after {self.connect_retries + 1} attempts",
            code="upstream_unreachable",
            detail=f"{url}: {last}",
        )

    async def complete(self, req: GenRequest) -> Generation:
        resp = await self._send(req, stream=False)
        try:
            data = resp.json()
        except ValueError as exc:
            raise UpstreamError("the upstream answered with invalid JSON") from exc
        raw = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(raw, list) or not raw:
            raise UpstreamError("the upstream's answer has no choices", detail=str(data)[:200])
        choices = []
        for i, ch in enumerate(raw):
            if req.kind == "chat":
                text = (ch.get("message") or {}).get("content") or ""
            else:
                text = ch.get("text") or ""
            choices.append(
                Choice(
                    index=int(ch.get("index", i)),
                    text=text,
                    finish_reason=ch.get("finish_reason") or "stop",
                )
            )
        choices.sort(key=lambda c: c.index)
        usage = data.get("usage") or {}
        return Generation(
            choices,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )

    async def open_stream(self, req: GenRequest) -> AsyncIterator[Delta]:
        """Connect (raising ``BackendError`` now, before any byte goes to the client), then
        return the stream of deltas."""
        resp = await self._send(req, stream=True)
        return self._deltas(resp, req.kind)

    async def _deltas(self, resp: httpx.Response, kind: str) -> AsyncIterator[Delta]:
        try:
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    data = json.loads(payload)
                except ValueError as exc:
                    raise UpstreamError(
                        "the upstream sent invalid JSON in its stream", detail=payload[:120]
                    ) from exc
                if isinstance(data, dict) and "error" in data and not data.get("choices"):
                    raise UpstreamError(
                        "the upstream reported an error mid-stream", detail=str(data["error"])[:200]
                    )
                if isinstance(data, dict) and data.get("usage") and not data.get("choices"):
                    yield Delta(
                        -1,
                        usage={k: int(v) for k, v in data["usage"].items() if isinstance(v, int)},
                    )
                    continue
                for ch in data.get("choices") or ():
                    idx = int(ch.get("index", 0))
                    if kind == "chat":
                        text = (ch.get("delta") or {}).get("content") or ""
                    else:
                        text = ch.get("text") or ""
                    fr = ch.get("finish_reason")
                    if text or fr:
                        yield Delta(idx, text, fr)
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                "the upstream's stream stalled", status=504, code="upstream_timeout"
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"the upstream's stream broke ({type(exc).__name__})", detail=str(exc)
            ) from exc
        finally:
            await resp.aclose()


def _error_message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
        err = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
        return str(err)[:300]
    except ValueError:
        return resp.text[:300] or resp.reason_phrase
