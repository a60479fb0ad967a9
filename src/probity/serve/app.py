"""The FastAPI application: OpenAI-compatible routes (the decisions live elsewhere).

Request flow (chat and completions alike)::

    front door (request id, body limit and read timeout: asgi.py)
      -> auth (key store, failed-auth throttle) -> policy -> per-key quotas (gateway.py)
      -> limits (n, max_tokens, prompt tokens) -> input guard on every client turn
      -> backend (local watermarked model or upstream: backends.py)
      -> output guard per choice, or window by window when streaming (streaming.py)
      -> audit record flushed -> response with a ``probity`` extension object

Errors are OpenAI-shaped with an ``X-Request-Id`` (errors.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from probity.errors import InputError, ProbityError
from probity.lm.base import GenerationParams
from probity.serve import _engines, errors
from probity.serve.asgi import FrontDoor
from probity.serve.backends import Delta, Generation, GenRequest, LocalBackend
from probity.serve.config import C2PA_HEADER, POLICY_HEADER, GatewayConfig
from probity.serve.errors import GatewayError, from_probity_error
from probity.serve.gateway import CONTENT_FILTER, Exchange, Gateway, verdict_view
from probity.serve.moderation import moderation_result
from probity.serve.requests import (
    ChatRequest,
    CompletionRequest,
    DetectRequest,
    GenerationRequest,
    ModerationRequest,
    OverlapRequest,
    ScanRequest,
    TextRequest,
    text_parts,
    with_texts,
)
from probity.serve.streaming import sse

__all__ = ["CONTENT_FILTER", "Gateway", "GatewayError", "create_app"]

log = logging.getLogger("probity.serve")


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
        title="Probity gateway",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, behind the same keys as everything else
    )
    app.state.gateway = gw
    app.add_middleware(
        FrontDoor,
        max_body_bytes=config.limits.max_body_bytes,
        body_timeout_s=config.limits.body_timeout_s,
    )
    errors.install(app)

    # -- helpers ---------------------------------------------------------------------------

    def params_of(req: GenerationRequest, n_prompts: int) -> GenerationParams:
        lim = config.limits
        if req.n > lim.max_n:
            raise GatewayError(
                400, f"n={req.n} is over this gateway's limit of {lim.max_n}", param="n"
            )
        mt = req.max_completion_tokens or req.max_tokens or lim.default_max_tokens or lim.max_tokens
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

    def gen_request(
        kind: Any, inputs: tuple[Any, ...], params: GenerationParams, body: GenerationRequest
    ) -> GenRequest:
        field = "max_completion_tokens" if body.max_completion_tokens else "max_tokens"
        return GenRequest(kind, inputs, params, body.model, body.passthrough(), field)

    async def guarded(
        endpoint: str,
        request: Request,
        body: GenerationRequest,
        prepare: Callable[[Exchange], Awaitable[tuple[GenRequest, str]]],
        render: Callable[[Exchange, Generation], dict[str, Any]],
        render_chunk: Callable[[Exchange, Delta | None, str | None, str | None], dict[str, Any]],
    ) -> Any:
        t0 = time.perf_counter()
        caller = await gw.identify(request)
        ex = Exchange(
            request_id=request.state.request_id,
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
            gw.admit(caller)
            ex.vault = _engines.new_vault()
            check_model(body.model)
            ex.credentials = gw.credentials.wanted(request.headers.get(C2PA_HEADER), body.stream)
            gen_req, prompt = await prepare(ex)
            if gw.audit.last_error is not None:
                # Do not spend the backend's work on an answer that could not be released.
                raise GatewayError(
                    503,
                    "the audit log cannot be written, so no request is served; "
                    "the operator has the details",
                    code="audit_unavailable",
                    type_="server_error",
                )
            if body.stream:
                deltas = await gw.backend.open_stream(gen_req)
                status = -1  # the stream records itself
                include_usage = bool(body.stream_options and body.stream_options.include_usage)
                return StreamingResponse(
                    sse(gw, ex, deltas, gen_req, prompt, render_chunk, t0, include_usage),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-cache"},
                )
            gen = await gw.backend.complete(gen_req)
            gw.spend(ex, gen)
            await gw.check_outputs(ex, gen, prompt)
            await gw.attach_credentials(ex, gen)
            return JSONResponse(render(ex, gen))
        except GatewayError as exc:
            status, error = exc.status, exc.message
            exc.extra.setdefault("request_id", ex.request_id)
            raise
        except ProbityError as exc:
            status, error = exc.http_status, str(exc)
            if status >= 500:
                gw.metrics.backend_errors.inc()
            raise from_probity_error(exc) from exc
        except Exception as exc:  # a bug: still audited, answered 500 by the handler
            status, error = 500, f"internal error: {type(exc).__name__}"
            raise
        finally:
            if status != -1:
                try:
                    await gw.record(ex, status, error)  # 503 instead of the answer if it fails
                except GatewayError as exc:
                    status = exc.status
                    raise
                finally:
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
            parts = [text_parts(m.content) for m in body.messages]
            check_tokens([t for p in parts for t in p])
            # Every turn the client sends is scanned, its own "assistant" turns included: they
            # are client input too (a fabricated one can carry an injection, and a real one
            # carries the PII restored in the last answer back upstream).
            flat = [t for p in parts for t in p if t]
            verdicts = iter(await gw.check_input(ex, flat))
            msgs = []
            for m, texts in zip(body.messages, parts, strict=True):
                safe = [next(verdicts).text if t else t for t in texts]
                msg = {"role": m.role, "content": with_texts(m.content, safe)}
                name = (m.model_extra or {}).get("name")
                if isinstance(name, str):
                    msg["name"] = name
                msgs.append(msg)
            prompt = next(
                (
                    "\n".join(text_parts(m["content"]))
                    for m in reversed(msgs)
                    if m["role"] == "user"
                ),
                "",
            )
            return gen_request("chat", (tuple(msgs),), params, body), prompt

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
            return gen_request("completion", safe, params, body), "\n".join(safe)

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
        await gw.authenticate(request)
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
        caller = await gw.authenticate(request)
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
        view = {**verdict_view(v, caller.findings), "text": v.text}
        return {**view, "policy_digest": _engines.policy_info(guard).digest}

    @app.post("/v1/watermark/detect")
    async def watermark_detect(request: Request, body: DetectRequest) -> dict[str, Any]:
        await gw.authenticate(request)
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
            await gw.authenticate(request)
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
            await gw.authenticate(request)
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

    @app.post("/v1/moderations")
    async def moderations(request: Request, body: ModerationRequest) -> dict[str, Any]:
        """OpenAI's moderation API backed by the caller's policy (input direction)."""
        caller = await gw.authenticate(request)
        guard = gw.guards.get(caller.policy)
        texts = body.texts()
        if not texts:
            raise GatewayError(400, "input must hold at least one text", param="input")
        verdicts = await anyio.to_thread.run_sync(
            lambda: [guard.check(t, direction="input") for t in texts]
        )
        for v in verdicts:
            gw.metrics.verdicts.labels(direction="input", action=v.action).inc()
        info = _engines.policy_info(guard)
        return {
            "id": "modr-" + request.state.request_id[4:],
            "model": body.model or f"probity-{info.name}",
            "results": [moderation_result(v) for v in verdicts],
            "probity": {
                "policy": {"name": info.name, "digest": info.digest},
                "verdicts": [verdict_view(v, caller.findings) for v in verdicts],
            },
        }

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        audit_ok = gw.audit.last_error is None
        return JSONResponse(
            {
                "status": "ok" if audit_ok else "audit_failing",
                "backend": config.backend.kind,
                "model": gw.backend.name if gw._backend is not None else None,
                "policy": config.policy,
                "uptime_s": round(time.time() - gw.started, 3),
            },
            status_code=200 if audit_ok else 503,
        )

    @app.get("/metrics")
    async def metrics(request: Request) -> PlainTextResponse:
        await gw.authenticate(request, use_header=False)
        body, ctype = gw.metrics.render()
        return PlainTextResponse(body, media_type=ctype)

    @app.get("/openapi.json")
    async def openapi(request: Request) -> dict[str, Any]:
        await gw.authenticate(request, use_header=False)
        return app.openapi()

    return app


def _usage(gen: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens,
        "total_tokens": gen.prompt_tokens + gen.completion_tokens,
    }
