"""Where the gateway's completions come from: a local model or an upstream endpoint.

Both backends take a :class:`GenRequest` and give :class:`Choice` objects, flat and ordered
the OpenAI way (``index = prompt_index * n + j``):

* :class:`LocalBackend` holds one :class:`probity.lm.HFModel`, loaded once, and a dynamic
  batcher: requests queue up while the model is busy and the next ``generate`` call takes every
  waiting request with the same sampling parameters (up to ``max_batch`` prompts). Requests
  with a ``seed`` run alone so that the same seed always gives the same text. The watermark's
  ``LogitsProcessor`` is applied to every step. Streaming is simulated: the whole answer is
  generated, then released chunk by chunk through the output checker (``HFModel`` has no
  token callback that survives batching).
* :class:`UpstreamBackend` calls an OpenAI-compatible endpoint with ``httpx.AsyncClient``:
  streaming is passed through chunk by chunk; connect errors (nothing was sent) are retried
  with backoff, anything else is reported at once as
  :class:`~probity.serve.errors.UpstreamError` (502, or 504 for a timeout), whose message
  never holds the upstream's address. A 200 answer that is not JSON (or, streaming, not an
  event stream) is a 502: a proxy's HTML page is not an empty completion.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from probity.errors import BackendError, ProbityError
from probity.lm.base import GenerationParams
from probity.serve.config import BackendConfig
from probity.serve.errors import UpstreamError
from probity.serve.requests import text_parts
from probity.text import tokenize


@dataclass(frozen=True)
class GenRequest:
    """One client request: ``inputs`` are prompts (``completion``) or conversations (``chat``)."""

    kind: Literal["chat", "completion"]
    inputs: tuple[Any, ...]
    params: GenerationParams
    model: str
    #: Client parameters an upstream receives unchanged (penalties, ``user``, stream options).
    extra: dict[str, Any] = field(default_factory=dict)
    #: ``max_tokens`` or ``max_completion_tokens``: the field the client used, sent upstream.
    max_tokens_field: str = "max_tokens"


@dataclass
class Choice:
    """One generated answer. ``index`` is its OpenAI choice index."""

    index: int
    text: str
    finish_reason: str = "stop"
    completion_tokens: int = 0


@dataclass
class Generation:
    """A backend's whole answer to a request, with token usage."""

    choices: list[Choice]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delta:
    """A piece of a streamed answer: text for choice ``index``; ``finish_reason`` on the last."""

    index: int
    text: str = ""
    finish_reason: str | None = None
    #: Token usage, on the upstream's usage event (``stream_options.include_usage``).
    usage: dict[str, int] | None = None


#: Upstream 4xx statuses that describe the client's request and are passed on; any other
#: (401/403/407: the gateway's own credentials; 5xx) becomes 502, so a client is never told
#: that its key is wrong when the upstream rejected the gateway's.
PASSED_ON = frozenset({400, 404, 409, 413, 422, 429})


class UpstreamHTTPError(UpstreamError):
    """The upstream answered with an HTTP error."""

    def __init__(self, status: int, message: str) -> None:
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


# -- local ----------------------------------------------------------------------------------


@dataclass
class _Pending:
    req: GenRequest
    future: asyncio.Future[Generation]
    key: tuple[Any, ...]


class LocalBackend:
    """A local transformers model with watermarked, dynamically batched generation."""

    streams_natively = False

    def __init__(
        self,
        model: Any,
        *,
        name: str,
        logits_processors: Sequence[Any] = (),
        max_batch: int = 8,
        batch_wait_ms: float = 2.0,
    ) -> None:
        self.model = model
        self.name = name
        self.logits_processors = list(logits_processors)
        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_ms / 1000.0
        # One thread: torch already uses every core for one forward pass; two generate calls
        # in parallel would only fight over them.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="probity-gen")
        self._queue: list[_Pending] = []
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0
        self.batched_requests = 0

    @classmethod
    def from_config(cls, cfg: BackendConfig, logits_processors: Sequence[Any] = ()) -> LocalBackend:
        from probity.lm import load_model

        model = load_model(None if cfg.model == "probity-demo" else cfg.model, device=cfg.device)
        return cls(
            model,
            name=cfg.name,
            logits_processors=logits_processors,
            max_batch=cfg.max_batch,
            batch_wait_ms=cfg.batch_wait_ms,
        )

    def count_tokens(self, text: str) -> int:
        return len(self.model.encode(text)) if text else 0

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # batching ---------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._wake = asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def complete(self, req: GenRequest) -> Generation:
        p = req.params
        key = (
            req.kind,
            p.max_new_tokens,
            p.temperature,
            p.top_p,
            p.top_k,
            p.n,
            p.stop,
            p.seed if p.seed is None else ("seed", id(req)),
        )
        fut: asyncio.Future[Generation] = asyncio.get_running_loop().create_future()
        self._ensure_worker()
        self._queue.append(_Pending(req, fut, key))
        assert self._wake is not None
        self._wake.set()
        return await fut

    def _take_batch(self) -> list[_Pending]:
        first = self._queue[0]
        batch: list[_Pending] = []
        size = 0
        rest: list[_Pending] = []
        for item in self._queue:
            n = len(item.req.inputs)
            if item.key == first.key and (not batch or size + n <= self.max_batch):
                batch.append(item)
                size += n
            else:
                rest.append(item)
        self._queue = rest
        return batch

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.batch_wait_s:
                await asyncio.sleep(self.batch_wait_s)  # let concurrent requests join
            while self._queue:
                batch = [b for b in self._take_batch() if not b.future.cancelled()]
                if not batch:
                    continue
                inputs = [x for b in batch for x in b.req.inputs]
                req0 = batch[0].req
                try:
                    out = await loop.run_in_executor(
                        self._pool, self._generate, req0.kind, inputs, req0.params
                    )
                except Exception as exc:  # one failure answers every request of the batch
                    err = (
                        exc
                        if isinstance(exc, ProbityError)
                        else BackendError(f"local model failed: {type(exc).__name__}: {exc}")
                    )
                    for b in batch:
                        if not b.future.done():
                            b.future.set_exception(err)
                    continue
                self.batches += 1
                self.batched_requests += len(batch)
                n = req0.params.n
                pos = 0
                for b in batch:
                    k = len(b.req.inputs) * n
                    mine = out[pos : pos + k]
                    pos += k
                    choices = [
                        Choice(
                            index=i,
                            text=c.text,
                            finish_reason=c.finish_reason,
                            completion_tokens=c.completion_tokens,
                        )
                        for i, c in enumerate(mine)
                    ]
                    prompt_tokens = sum(c.prompt_tokens for c in mine[::n])
                    gen = Generation(
                        choices,
                        prompt_tokens=prompt_tokens,
                        completion_tokens=sum(c.completion_tokens for c in mine),
                    )
                    if not b.future.done():
                        b.future.set_result(gen)

    def _generate(self, kind: str, inputs: list[Any], params: GenerationParams) -> list[Any]:
        procs = self.logits_processors or None
        if kind == "chat":
            # A local model reads text only: a list content keeps its text parts.
            flat = [
                [
                    {"role": m["role"], "content": "\n".join(text_parts(m.get("content")))}
                    for m in conv
                ]
                for conv in inputs
            ]
            return self.model.chat(flat, params, logits_processors=procs)
        return self.model.generate(
            inputs, params, logits_processors=procs, batch_size=max(self.max_batch * params.n, 1)
        )

    async def open_stream(self, req: GenRequest) -> AsyncIterator[Delta]:
        gen = await self.complete(req)
        return _replay(gen)


async def _replay(gen: Generation) -> AsyncIterator[Delta]:
    """Release a finished generation word by word (so the output checker sees a stream)."""
    for ch in gen.choices:
        start = 0
        text = ch.text
        while start < len(text):
            end = text.find(" ", start + 1)
            end = len(text) if end == -1 else end
            yield Delta(ch.index, text[start:end])
            start = end
        yield Delta(ch.index, "", ch.finish_reason)
    yield Delta(-1, usage=_usage_dict(gen))


def _usage_dict(gen: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens,
        "total_tokens": gen.prompt_tokens + gen.completion_tokens,
    }


# -- upstream -------------------------------------------------------------------------------


class UpstreamBackend:
    """An OpenAI-compatible endpoint reached with ``httpx.AsyncClient``."""

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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.connect_retries = connect_retries
        self.backoff_s = backoff_s
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
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
        import os

        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        assert cfg.base_url is not None
        return cls(
            cfg.base_url,
            cfg.name,
            api_key=key,
            connect_timeout_s=cfg.connect_timeout_s,
            read_timeout_s=cfg.read_timeout_s,
            connect_retries=cfg.connect_retries,
            max_connections=cfg.max_connections,
        )

    def count_tokens(self, text: str) -> int:
        """An upper-leaning estimate (the upstream's tokenizer is not known here): the larger
        of Probity's word tokens and UTF-8 bytes / 4, so one 600 KB "word" counts as 150,000
        tokens, not one."""
        if not text:
            return 0
        return max(len(tokenize(text)), -(-len(text.encode("utf-8", "surrogatepass")) // 4))

    async def aclose(self) -> None:
        await self._client.aclose()

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
        """POST the request; errors say what went wrong without the upstream's address (that
        goes to the server log as ``detail``)."""
        url = self.base_url + self._path(req)
        body = self._body(req, stream)
        last = ""
        for attempt in range(self.connect_retries + 1):
            try:
                request = self._client.build_request("POST", url, json=body)
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
                raise UpstreamHTTPError(resp.status_code, _error_message(resp))
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            want = "text/event-stream" if stream else "application/json"
            if ctype != want and not (stream and ctype == "application/json"):
                await resp.aclose()
                raise UpstreamError(
                    f"the upstream answered HTTP {resp.status_code} with {ctype or 'no type'}, "
                    f"not {want} (a proxy or login page in the way?)",
                    detail=url,
                )
            return resp
        raise UpstreamError(
            f"the upstream is unreachable after {self.connect_retries + 1} attempts",
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
