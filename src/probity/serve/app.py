"""The FastAPI application: OpenAI-compatible endpoints with guarding, watermarking and audit.

Request flow (chat and completions alike)::

    auth (hashed key, constant-time) -> policy (key's, or the header's when granted)
      -> limits (body, n, max_tokens, prompt tokens)
      -> input guard (block: HTTP 400 code content_filter; redact: PII replaced by placeholders)
      -> backend (local watermarked model or upstream)
      -> output guard per choice (block/redact: finish_reason content_filter), PII restored
      -> audit record appended and flushed -> response with a ``probity`` extension object

Streaming holds back at most one sentence per choice (the guard's ``StreamChecker``); the audit
record is written before the final chunk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from probity.errors import InputError, ProbityError
from probity.home import audit_log_path
from probity.lm.base import GenerationParams
from probity.serve import _engines
from probity.serve.audit import AuditWriter
from probity.serve.auth import KeyStore, bearer_token
from probity.serve.backends import Delta, Generation, GenRequest, LocalBackend, UpstreamBackend
from probity.serve.config import POLICY_HEADER, GatewayConfig
from probity.serve.metrics import GatewayMetrics
from probity.types import Verdict

log = logging.getLogger("probity.serve")

#: Finish reason for a blocked or redacted answer (as hosted OpenAI-compatible services use).
CONTENT_FILTER = "content_filter"


class GatewayError(Exception):
    """An error answered in OpenAI's shape: ``{"error": {"message", "type", "code", ...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        type_: str = "invalid_request_error",
        param: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type_
        self.param = param
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        err.update(self.extra)
        return {"error": err}


# -- request models -------------------------------------------------------------------------


class _Req(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    n: int = Field(1, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    user: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(_Req):
    messages: list[ChatMessage] = Field(min_length=1)


class CompletionRequest(_Req):
    prompt: str | list[str]


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    direction: str = "input"
    policy: str | None = None


class TextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)


class OverlapRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    index: str = Field(min_length=1)
    min_tokens: int | None = Field(None, ge=1)
    threshold: float | None = Field(None, gt=0, le=1)


class DetectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    fpr: float | None = Field(None, gt=0, lt=1)
    prompt: str | None = None


def _content_text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")


# -- per-request state ----------------------------------------------------------------------


@dataclass
class Caller:
    """Who is calling and under which policy."""

    key_id: str | None
    policy: str


@dataclass
class Exchange:
    """What one request accumulates on its way through (becomes the audit record)."""

    request_id: str
    endpoint: str
    caller: Caller
    started: float
    guard: Any = None
    vault: Any = None
    input_verdicts: list[Verdict] = field(default_factory=list)
    output_verdicts: list[Verdict] = field(default_factory=list)
    stream: bool = False
    model: str = ""


def _verdict_view(v: Verdict) -> dict[str, Any]:
    d = v.to_dict()
    d.pop("text", None)
    return d


class Gateway:
    """The gateway's state: config, backend, keys, guards, watermark, audit log, metrics."""

    def __init__(
        self, cfg: GatewayConfig, *, backend: Any = None, audit_path: str | None = None
    ) -> None:
        self.cfg = cfg
        self.keys = KeyStore((k.id, k.hash) for k in cfg.keys)
        self.key_cfg = {k.id: k for k in cfg.keys}
        self.guards = _engines.Guards()
        self.metrics = GatewayMetrics()
        self.audit_path = audit_path or cfg.audit.path or str(audit_log_path())
        self.audit = AuditWriter(_engines.open_audit_log(self.audit_path), fsync=cfg.audit.fsync)
        self.watermark: _engines.Watermark | None = None
        self._backend = backend
        self.started = time.time()
        self.citations = _engines.optional_engine("probity.citations")
        self.overlap = _engines.optional_engine("probity.overlap")
        self._indexes: dict[str, Any] = {}
        self._index_lock = threading.Lock()

    # startup ----------------------------------------------------------------------------

    def start(self) -> None:
        """Load the default policy, the watermark and the backend (model loaded once)."""
        self.guards.get(self.cfg.policy)
        for k in self.cfg.keys:
            for p in (k.policy, *k.allowed_policies):
                if p:
                    self.guards.get(p)
        if self._backend is None:
            b = self.cfg.backend
            if b.kind == "local":
                from probity.lm import load_model

                if b.threads is not None:
                    import torch

                    torch.set_num_threads(b.threads)
                model = load_model(None if b.model == "probity-demo" else b.model, device=b.device)
                procs: list[Any] = []
                if self.cfg.watermark is not None and self.cfg.watermark.enabled:
                    self.watermark = _engines.Watermark(self.cfg.watermark)
                    procs = self.watermark.processors(model.vocab_size)
                self._backend = LocalBackend(
                    model,
                    name=b.name,
                    logits_processors=procs,
                    max_batch=b.max_batch,
                    batch_wait_ms=b.batch_wait_ms,
                )
            else:
                self._backend = UpstreamBackend.from_config(b)
        elif (
            isinstance(self._backend, LocalBackend)
            and self.cfg.watermark is not None
            and self.cfg.watermark.enabled
            and self.watermark is None
        ):
            self.watermark = _engines.Watermark(self.cfg.watermark)
            self._backend.logits_processors = self.watermark.processors(
                self._backend.model.vocab_size
            )

    @property
    def backend(self) -> Any:
        if self._backend is None:
            raise ProbityError("the gateway has not started (no backend)")
        return self._backend

    def overlap_index(self, name: str) -> Any:
        """An overlap index from the Probity home, opened once and kept."""
        with self._index_lock:
            if name not in self._indexes:
                self._indexes[name] = self.overlap.OverlapIndex.open(name)
            return self._indexes[name]

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.audit.close)
        if self._backend is not None:
            await self._backend.aclose()

    # auth and policy ---------------------------------------------------------------------

    def authenticate(self, request: Request, *, use_header: bool = True) -> Caller:
        """The caller's key id and policy (the header's, when granted); 401 or 403 otherwise."""
        caller = self.identify(request)
        if use_header:
            caller.policy = self.resolve_policy(caller, request.headers.get(POLICY_HEADER))
        return caller

    def identify(self, request: Request) -> Caller:
        """The caller's key id and its own policy; 401 when keys are configured and none fits."""
        presented = bearer_token(
            request.headers.get("authorization"), request.headers.get("api-key")
        )
        key_id: str | None = None
        if len(self.keys):
            key_id = self.keys.lookup(presented)
            if key_id is None:
                self.metrics.auth_failures.inc()
                raise GatewayError(
                    401,
                    "missing or invalid API key: send it as 'Authorization: Bearer <key>'",
                    code="invalid_api_key",
                )
        kc = self.key_cfg.get(key_id) if key_id else None
        return Caller(key_id, (kc.policy if kc and kc.policy else None) or self.cfg.policy)

    def resolve_policy(self, caller: Caller, asked: str | None) -> str:
        """``asked`` when the caller's key grants it, else 403; the caller's own when None.

        Only policies listed in the key's ``allowed_policies`` can be chosen, so a client can
        never switch to a weaker policy it was not granted.
        """
        if not asked or asked == caller.policy:
            return caller.policy
        kc = self.key_cfg.get(caller.key_id) if caller.key_id else None
        allowed = kc.allowed_policies if kc else ()
        if asked not in allowed:
            who = f"key {caller.key_id!r}" if caller.key_id else "an anonymous caller"
            raise GatewayError(
                403,
                f"{who} may not use policy {asked!r} (its policy is {caller.policy!r}; "
                f"allowed by header: {', '.join(allowed) or 'none'})",
                code="policy_not_allowed",
                type_="permission_error",
            )
        return asked

    # guarding ----------------------------------------------------------------------------

    def _context(self, ex: Exchange, direction: str, prompt: str | None) -> Any:
        return _engines.scan_context(
            direction,
            prompt=prompt,
            guard=ex.guard,
            metadata={"request_id": ex.request_id, "key_id": ex.caller.key_id},
        )

    def _check(self, ex: Exchange, text: str, direction: str, prompt: str | None) -> Verdict:
        # The vault takes only the prompt's PII (placeholders the model sees, restored in its
        # answer); PII the model writes itself is redacted for good, so no vault for outputs.
        vault = ex.vault if direction == "input" else None
        ctx = self._context(ex, direction, prompt)
        v = ex.guard.check(text, direction=direction, context=ctx, vault=vault)
        self.metrics.verdicts.labels(direction=direction, action=v.action).inc()
        return v

    async def check_input(self, ex: Exchange, texts: list[str]) -> list[Verdict]:
        def run() -> list[Verdict]:
            return [self._check(ex, t, "input", None) for t in texts]

        verdicts = await anyio.to_thread.run_sync(run)
        ex.input_verdicts.extend(verdicts)
        if any(v.action == "block" for v in verdicts):
            reasons = [
                f.message or f"{f.source}: {f.category}"
                for v in verdicts
                if v.action == "block"
                for f in v.findings
                if f.action == "block"
            ]
            raise GatewayError(
                400,
                "the prompt was blocked by policy "
                f"{_engines.policy_info(ex.guard).name!r}: {'; '.join(reasons) or 'blocked'}",
                code=CONTENT_FILTER,
                extra={"probity": self.extension(ex)},
            )
        return verdicts

    async def check_outputs(self, ex: Exchange, gen: Generation, prompt: str) -> None:
        def run() -> list[Verdict]:
            return [self._check(ex, c.text, "output", prompt) for c in gen.choices]

        verdicts = await anyio.to_thread.run_sync(run)
        for ch, v in zip(gen.choices, verdicts, strict=True):
            if v.action in ("block", "redact"):
                ch.finish_reason = CONTENT_FILTER
            text = "" if v.action == "block" else v.text
            text = ex.vault.restore(text) if ex.vault is not None else text
            ch.text = text + self.disclaimer_suffix(v)
        ex.output_verdicts.extend(verdicts)

    def disclaimer_suffix(self, v: Verdict) -> str:
        """The policy's disclaimers for an answer, as a paragraph appended to it."""
        if not self.cfg.append_disclaimers or not v.disclaimers or v.action == "block":
            return ""
        return "\n\n" + " ".join(v.disclaimers)

    def extension(self, ex: Exchange) -> dict[str, Any]:
        """The ``probity`` object added to every response (never the watermark key)."""
        g = ex.guard
        info = _engines.policy_info(g) if g else None
        return {
            "request_id": ex.request_id,
            "policy": {"name": info.name, "digest": info.digest} if info else None,
            "key_id": ex.caller.key_id,
            "input": [_verdict_view(v) for v in ex.input_verdicts],
            "output": [_verdict_view(v) for v in ex.output_verdicts],
            "watermark": self.watermark.public_params() if self.watermark else None,
        }

    # audit -------------------------------------------------------------------------------

    async def record(self, ex: Exchange, status: int, error: str | None = None) -> None:
        """Append the request's decision to the hash-chained log; returns once flushed."""
        await self.audit.write(self.audit_entry(ex, status, error))
        self.metrics.audit_records.inc()

    def record_nowait(self, ex: Exchange, status: int, error: str | None = None) -> None:
        """Queue the record without waiting (a cancelled stream cannot wait)."""
        self.audit.submit(self.audit_entry(ex, status, error)).add_done_callback(
            lambda f: f.exception() is None and self.metrics.audit_records.inc()
        )

    def audit_entry(self, ex: Exchange, status: int, error: str | None) -> dict[str, Any]:
        """The audit record of one request (via the guard's ``audit_record``)."""
        verdicts = ex.input_verdicts + ex.output_verdicts
        if ex.guard is None:  # failed before any policy was loaded
            ex.guard = self.guards.get(ex.caller.policy)
        decisive = (
            max(verdicts, key=lambda v: _SEVERITY[v.action])
            if verdicts
            else Verdict("allow", policy=_engines.policy_info(ex.guard).name, direction="input")
        )
        latency_ms = round((time.perf_counter() - ex.started) * 1000.0, 3)
        return _engines.audit_entry(
            decisive,
            ex.guard,
            include_text=self.cfg.audit.include_text,
            request_id=ex.request_id,
            key_id=ex.caller.key_id,
            endpoint=ex.endpoint,
            model=ex.model,
            stream=ex.stream,
            status=status,
            error=error,
            latency_ms=latency_ms,
            input_actions=[v.action for v in ex.input_verdicts],
            output_actions=[v.action for v in ex.output_verdicts],
        )


_SEVERITY = {"allow": 0, "flag": 1, "redact": 2, "block": 3}


# -- the app --------------------------------------------------------------------------------


class _BodyLimit:
    """Pure ASGI middleware: HTTP 413 for bodies over ``limit`` bytes (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", ()):
            if k == b"content-length" and v.isdigit() and int(v) > self.limit:
                await self._reject(send)
                return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return msg

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(send)

    async def _reject(self, send: Any) -> None:
        body = json.dumps(
            GatewayError(
                413, f"request body over {self.limit} bytes", code="request_too_large"
            ).body()
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_app(
    config: GatewayConfig, *, backend: Any = None, audit_path: str | None = None
) -> FastAPI:
    """Build the gateway app for ``config``.

    ``backend`` replaces the configured one (tests, embedding); ``audit_path`` overrides
    ``config.audit.path``. The model, policies and watermark load at start-up (lifespan).
    """
    gw = Gateway(config, backend=backend, audit_path=audit_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(gw.start)
        yield
        await gw.aclose()

    app = FastAPI(
        title="Probity gateway", version="1", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.gateway = gw
    app.add_middleware(_BodyLimit, limit=config.limits.max_body_bytes)

    @app.exception_handler(GatewayError)
    async def _gw_error(request: Request, exc: GatewayError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(ProbityError)
    async def _probity_error(request: Request, exc: ProbityError) -> JSONResponse:
        kind = "server_error" if exc.http_status >= 500 else "invalid_request_error"
        code = "upstream_error" if exc.http_status in (502, 504) else None
        err = GatewayError(exc.http_status, str(exc), code=code, type_=kind)
        return JSONResponse(err.body(), status_code=exc.http_status)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        err = GatewayError(
            500, f"internal error ({type(exc).__name__}); see the server log", type_="server_error"
        )
        return JSONResponse(err.body(), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        err = GatewayError(
            400,
            f"invalid request: {loc or 'body'}: {first.get('msg', 'invalid')}",
            param=loc or None,
        )
        return JSONResponse(err.body(), status_code=400)

    # -- helpers ---------------------------------------------------------------------------

    def params_of(req: _Req, n_prompts: int) -> GenerationParams:
        lim = config.limits
        if req.n > lim.max_n:
            raise GatewayError(
                400, f"n={req.n} is over this gateway's limit of {lim.max_n}", param="n"
            )
        mt = req.max_completion_tokens or req.max_tokens or lim.default_max_tokens
        if mt > lim.max_tokens:
            raise GatewayError(
                400,
                f"max_tokens={mt} is over this gateway's limit of {lim.max_tokens}",
                param="max_tokens",
            )
        if n_prompts > lim.max_prompts:
            raise GatewayError(
                400,
                f"{n_prompts} prompts in one request; the limit is {lim.max_prompts}",
                param="prompt",
            )
        stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
        if len(stop) > 4:
            raise GatewayError(400, "at most 4 stop sequences", param="stop")
        try:
            return GenerationParams(
                max_new_tokens=mt,
                temperature=req.temperature,
                top_p=req.top_p,
                n=req.n,
                seed=req.seed,
                stop=stop,
            )
        except InputError as exc:
            raise GatewayError(400, str(exc)) from exc

    def check_model(name: str) -> None:
        if name != gw.backend.name:
            raise GatewayError(
                404,
                f"unknown model {name!r}; this gateway serves {gw.backend.name!r} (GET /v1/models)",
                code="model_not_found",
            )

    def check_tokens(texts: list[str]) -> None:
        total = sum(gw.backend.count_tokens(t) for t in texts)
        if total > config.limits.max_prompt_tokens:
            raise GatewayError(
                400,
                f"the prompt has {total} tokens; this gateway's limit is "
                f"{config.limits.max_prompt_tokens}",
                code="context_length_exceeded",
            )

    async def guarded(
        endpoint: str,
        request: Request,
        body: _Req,
        prepare: Callable[[Exchange], Awaitable[tuple[GenRequest, str]]],
        render: Callable[[Exchange, Generation], dict[str, Any]],
        render_chunk: Callable[[Exchange, Delta | None, str | None, str | None], dict[str, Any]],
    ) -> Any:
        t0 = time.perf_counter()
        caller = gw.identify(request)
        ex = Exchange(
            request_id="req-" + secrets.token_hex(12),
            endpoint=endpoint,
            caller=caller,
            started=t0,
            stream=body.stream,
            model=body.model,
        )
        status, error = 200, None
        try:
            # A refused policy switch is audited under the caller's own policy.
            ex.guard = gw.guards.get(caller.policy)
            caller.policy = gw.resolve_policy(caller, request.headers.get(POLICY_HEADER))
            ex.guard = gw.guards.get(caller.policy)
            ex.vault = _engines.new_vault()
            check_model(body.model)
            gen_req, prompt = await prepare(ex)
            if body.stream:
                deltas = await gw.backend.open_stream(gen_req)
                status = -1  # the stream records itself
                return StreamingResponse(
                    _sse(gw, ex, deltas, gen_req, prompt, render_chunk, t0),
                    media_type="text/event-stream",
                    headers={"X-Request-Id": ex.request_id, "Cache-Control": "no-cache"},
                )
            gen = await gw.backend.complete(gen_req)
            await gw.check_outputs(ex, gen, prompt)
            out = render(ex, gen)
            return JSONResponse(out, headers={"X-Request-Id": ex.request_id})
        except GatewayError as exc:
            status, error = exc.status, exc.message
            exc.extra.setdefault("request_id", ex.request_id)
            raise
        except ProbityError as exc:
            status, error = exc.http_status, str(exc)
            if status >= 500:
                gw.metrics.backend_errors.inc()
            raise
        except Exception as exc:  # a bug: still audited, answered 500 by the handler below
            status, error = 500, f"internal error: {type(exc).__name__}"
            raise
        finally:
            if status != -1:
                await gw.record(ex, status, error)
                gw.metrics.observe(endpoint, status, time.perf_counter() - t0)
                if config.log_requests:
                    log.info(
                        "%s %s key=%s policy=%s status=%s %.1fms",
                        ex.request_id,
                        endpoint,
                        caller.key_id,
                        caller.policy,
                        status,
                        (time.perf_counter() - t0) * 1000,
                    )

    # -- OpenAI-compatible endpoints -------------------------------------------------------

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request, body: ChatRequest) -> Any:
        async def prepare(ex: Exchange) -> tuple[GenRequest, str]:
            params = params_of(body, 1)
            msgs = [{"role": m.role, "content": _content_text(m.content)} for m in body.messages]
            check_tokens([m["content"] for m in msgs])
            idx = [i for i, m in enumerate(msgs) if m["role"] != "assistant" and m["content"]]
            verdicts = await gw.check_input(ex, [msgs[i]["content"] for i in idx])
            for i, v in zip(idx, verdicts, strict=True):
                msgs[i] = {**msgs[i], "content": v.text}
            prompt = next((m["content"] for m in reversed(msgs) if m["role"] == "user"), "")
            return GenRequest("chat", (tuple(msgs),), params, body.model), prompt

        def render(ex: Exchange, gen: Generation) -> dict[str, Any]:
            return {
                "id": "chatcmpl-" + ex.request_id[4:],
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.model,
                "system_fingerprint": None,
                "choices": [
                    {
                        "index": c.index,
                        "message": {"role": "assistant", "content": c.text},
                        "finish_reason": c.finish_reason,
                        "logprobs": None,
                    }
                    for c in gen.choices
                ],
                "usage": _usage(gen),
                "probity": gw.extension(ex),
            }

        def chunk(
            ex: Exchange, d: Delta | None, text: str | None, finish: str | None
        ) -> dict[str, Any]:
            choices = []
            if d is not None:
                delta: dict[str, Any] = {}
                if text is None:
                    delta = {"role": "assistant", "content": ""}
                elif text:
                    delta = {"content": text}
                choices = [
                    {"index": d.index, "delta": delta, "finish_reason": finish, "logprobs": None}
                ]
            return {
                "id": "chatcmpl-" + ex.request_id[4:],
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body.model,
                "choices": choices,
            }

        return await guarded("chat", request, body, prepare, render, chunk)

    @app.post("/v1/completions")
    async def completions(request: Request, body: CompletionRequest) -> Any:
        prompts = [body.prompt] if isinstance(body.prompt, str) else list(body.prompt)

        async def prepare(ex: Exchange) -> tuple[GenRequest, str]:
            if not prompts:
                raise GatewayError(400, "prompt must not be empty", param="prompt")
            params = params_of(body, len(prompts))
            check_tokens(prompts)
            verdicts = await gw.check_input(ex, prompts)
            safe = tuple(v.text for v in verdicts)
            return GenRequest("completion", safe, params, body.model), "\n".join(safe)

        def render(ex: Exchange, gen: Generation) -> dict[str, Any]:
            return {
                "id": "cmpl-" + ex.request_id[4:],
                "object": "text_completion",
                "created": int(time.time()),
                "model": body.model,
                "choices": [
                    {
                        "index": c.index,
                        "text": c.text,
                        "finish_reason": c.finish_reason,
                        "logprobs": None,
                    }
                    for c in gen.choices
                ],
                "usage": _usage(gen),
                "probity": gw.extension(ex),
            }

        def chunk(
            ex: Exchange, d: Delta | None, text: str | None, finish: str | None
        ) -> dict[str, Any]:
            choices = []
            if d is not None and text is not None:
                choices = [
                    {"index": d.index, "text": text, "finish_reason": finish, "logprobs": None}
                ]
            return {
                "id": "cmpl-" + ex.request_id[4:],
                "object": "text_completion",
                "created": int(time.time()),
                "model": body.model,
                "choices": choices,
            }

        return await guarded("completions", request, body, prepare, render, chunk)

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        gw.authenticate(request)
        b = gw.backend
        return {
            "object": "list",
            "data": [
                {
                    "id": b.name,
                    "object": "model",
                    "created": int(gw.started),
                    "owned_by": "probity",
                    "probity": {
                        "backend": config.backend.kind,
                        "watermark": gw.watermark.public_params() if gw.watermark else None,
                    },
                }
            ],
        }

    # -- native endpoints ------------------------------------------------------------------

    @app.post("/v1/guard/scan")
    async def guard_scan(request: Request, body: ScanRequest) -> dict[str, Any]:
        caller = gw.authenticate(request)
        if body.direction not in ("input", "output"):
            raise GatewayError(
                400,
                f"direction must be 'input' or 'output', not {body.direction!r}",
                param="direction",
            )
        policy = gw.resolve_policy(caller, body.policy) if body.policy else caller.policy
        guard = gw.guards.get(policy)
        v = await anyio.to_thread.run_sync(lambda: guard.check(body.text, direction=body.direction))
        gw.metrics.verdicts.labels(direction=body.direction, action=v.action).inc()
        return {**v.to_dict(), "policy_digest": _engines.policy_info(guard).digest}

    @app.post("/v1/watermark/detect")
    async def watermark_detect(request: Request, body: DetectRequest) -> dict[str, Any]:
        gw.authenticate(request)
        if gw.watermark is None or not isinstance(gw.backend, LocalBackend):
            raise GatewayError(
                404,
                "this gateway has no watermark configured (a local backend "
                "with a `watermark:` section is needed)",
                code="not_configured",
            )
        wm, model = gw.watermark, gw.backend.model
        return await anyio.to_thread.run_sync(
            lambda: wm.detect(body.text, model, body.fpr, body.prompt)
        )

    if gw.citations is not None:

        @app.post("/v1/citations/verify")
        async def citations_verify(request: Request, body: TextRequest) -> dict[str, Any]:
            """Extract the references in ``text`` and verify each against the local database
            (``citations_db`` in the config, else the Probity home's)."""
            gw.authenticate(request)
            cit = gw.citations

            def run() -> list[Any]:
                db = (
                    cit.CitationDB(config.citations_db, create=False)
                    if config.citations_db
                    else cit.CitationDB(create=False)
                )
                try:
                    return cit.verify_references(body.text, db)
                finally:
                    db.close()

            verdicts = await anyio.to_thread.run_sync(run)
            return {"references": len(verdicts), "verdicts": [v.to_dict() for v in verdicts]}

    if gw.overlap is not None:

        @app.post("/v1/overlap/check")
        async def overlap_check(request: Request, body: OverlapRequest) -> dict[str, Any]:
            """What ``text`` shares with a protected-content index in the Probity home."""
            gw.authenticate(request)
            if config.overlap_indexes and body.index not in config.overlap_indexes:
                raise GatewayError(
                    403,
                    f"index {body.index!r} is not served here; allowed: "
                    f"{', '.join(config.overlap_indexes)}",
                    code="index_not_allowed",
                    type_="permission_error",
                )
            index = await anyio.to_thread.run_sync(gw.overlap_index, body.index)
            report = await anyio.to_thread.run_sync(
                lambda: index.check(body.text, min_tokens=body.min_tokens, threshold=body.threshold)
            )
            return {**report.to_dict(), "found": report.found}

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "backend": config.backend.kind,
            "model": gw.backend.name if gw._backend is not None else None,
            "policy": config.policy,
            "uptime_s": round(time.time() - gw.started, 3),
        }

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        body, ctype = gw.metrics.render()
        return PlainTextResponse(body, media_type=ctype)

    return app


def _usage(gen: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens,
        "total_tokens": gen.prompt_tokens + gen.completion_tokens,
    }


async def _sse(
    gw: Gateway,
    ex: Exchange,
    deltas: AsyncIterator[Delta],
    req: GenRequest,
    prompt: str,
    chunk: Callable[..., dict[str, Any]],
    t0: float,
) -> AsyncIterator[bytes]:
    """Server-sent events through per-choice stream checkers; the audit record goes before the
    last event. A client that goes away still gets its request recorded."""
    checkers: dict[int, Any] = {}
    finished: dict[int, str] = {}
    status, error, recorded = 200, None, False

    def checker(i: int) -> Any:
        if i not in checkers:
            checkers[i] = ex.guard.stream(
                direction="output", context=gw._context(ex, "output", prompt)
            )
        return checkers[i]

    def restore(text: str) -> str:
        return ex.vault.restore(text) if ex.vault is not None and text else text

    def event(obj: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"

    try:
        n_choices = req.params.n * len(req.inputs)
        for i in range(n_choices):  # OpenAI sends the role first
            yield event(chunk(ex, Delta(i), None, None))
        async for d in deltas:
            c = checker(d.index)
            if d.text:
                out = c.feed(d.text)
                if out:
                    yield event(chunk(ex, d, restore(out), None))
            if d.finish_reason is not None:
                finished[d.index] = d.finish_reason
        for i in sorted(set(range(n_choices)) | set(checkers)):
            rest, verdict = checker(i).finish()
            ex.output_verdicts.append(verdict)
            gw.metrics.verdicts.labels(direction="output", action=verdict.action).inc()
            reason = finished.get(i, "stop")
            if verdict.action in ("block", "redact"):
                reason = CONTENT_FILTER
            tail = (restore(rest) if rest else "") + gw.disclaimer_suffix(verdict)
            yield event(chunk(ex, Delta(i), tail, reason))
        final = chunk(ex, None, None, None)
        final["probity"] = gw.extension(ex)
        await gw.record(ex, 200)
        recorded = True
        yield event(final)
        yield b"data: [DONE]\n\n"
    except Exception as exc:  # the backend broke mid-stream, or a bug: record, then tell
        if isinstance(exc, ProbityError):
            status, error, code = exc.http_status, str(exc), "upstream_error"
            gw.metrics.backend_errors.inc()
        else:
            log.exception("unexpected error in stream %s", ex.request_id)
            status, error, code = 500, f"internal error: {type(exc).__name__}", None
        if not recorded:
            await gw.record(ex, status, error)
            recorded = True
        yield event(
            GatewayError(
                500 if code is None else 502,
                error or "stream failed",
                code=code,
                type_="server_error",
            ).body()
        )
    except (asyncio.CancelledError, GeneratorExit):
        status, error = 499, "client closed the stream"
        raise
    finally:
        if not recorded:
            gw.record_nowait(ex, status, error)
        gw.metrics.observe(ex.endpoint, status, time.perf_counter() - t0)
