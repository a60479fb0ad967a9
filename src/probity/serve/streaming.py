"""Server-sent events for a streamed completion, guarded window by window.

Each choice gets a :class:`~probity.serve.stream_guard.WindowGuard`; text is released as soon
as its window passes. The audit record is written before the final event (which carries the
``probity`` object), then ``[DONE]``. A client that goes away still gets its request recorded
(status 499); a backend that breaks mid-stream is recorded and reported in an error event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio

from probity.errors import ProbityError
from probity.serve.backends import Delta, GenRequest
from probity.serve.errors import GatewayError, UpstreamError, from_probity_error
from probity.serve.gateway import CONTENT_FILTER, Exchange, Gateway
from probity.serve.stream_guard import WindowGuard

log = logging.getLogger("probity.serve")


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


async def sse(
    gw: Gateway,
    ex: Exchange,
    deltas: AsyncIterator[Delta],
    req: GenRequest,
    prompt: str,
    chunk: Callable[..., dict[str, Any]],
    t0: float,
    include_usage: bool = False,
) -> AsyncIterator[bytes]:
    """The event stream for one request (see the module docstring)."""
    scfg = gw.cfg.streaming
    guards: dict[int, WindowGuard] = {}
    finished: dict[int, str] = {}
    usage: dict[str, int] | None = None
    status, error, recorded = 200, None, False

    def guard(i: int) -> WindowGuard:
        if i not in guards:
            guards[i] = WindowGuard(
                ex.guard,
                window=scfg.window_tokens,
                hold=scfg.hold_tokens,
                context=gw.context(ex, "output", prompt),
            )
        return guards[i]

    def restore(text: str) -> str:
        return ex.vault.restore(text) if ex.vault is not None and text else text

    try:
        n_choices = req.params.n * len(req.inputs)
        for i in range(n_choices):  # OpenAI sends the role first
            yield _event(chunk(ex, Delta(i), None, None))
        async for d in deltas:
            if d.usage is not None:
                usage = d.usage
                continue
            if d.text:
                g = guard(d.index)
                # A scan is a guard call (milliseconds): off the event loop, and only when a
                # whole window is buffered.
                out = await anyio.to_thread.run_sync(g.release) if g.add(d.text) else ""
                if out:
                    yield _event(chunk(ex, d, restore(out), None))
            if d.finish_reason is not None:
                finished[d.index] = d.finish_reason
        for i in sorted(set(range(n_choices)) | set(guards)):
            rest, verdict = await anyio.to_thread.run_sync(guard(i).finish)
            ex.output_verdicts.append(verdict)
            ex.output_texts.append("".join(guard(i).raw))
            gw.metrics.verdicts.labels(direction="output", action=verdict.action).inc()
            reason = finished.get(i, "stop")
            if verdict.action in ("block", "redact"):
                reason = CONTENT_FILTER
            tail = (restore(rest) if rest else "") + gw.disclaimer_suffix(verdict)
            yield _event(chunk(ex, Delta(i), tail, reason))
        if usage is None:  # an upstream that sends no usage: count it ourselves
            count = gw.backend.count_tokens
            p_tok = count(prompt)
            c_tok = sum(count("".join(g.raw)) for g in guards.values())
            usage = {
                "prompt_tokens": p_tok,
                "completion_tokens": c_tok,
                "total_tokens": p_tok + c_tok,
            }
        gw.spend(ex, tokens=int(usage.get("total_tokens") or 0))
        if include_usage:
            u = chunk(ex, None, None, None)
            u["usage"] = usage
            yield _event(u)
        final = chunk(ex, None, None, None)
        final["probity"] = gw.extension(ex)
        await gw.record(ex, 200)
        recorded = True
        yield _event(final)
        yield b"data: [DONE]\n\n"
    except Exception as exc:  # the backend broke mid-stream, or a bug: record, then tell
        if isinstance(exc, GatewayError):
            err = exc
        elif isinstance(exc, ProbityError):
            err = from_probity_error(exc)
            if isinstance(exc, UpstreamError) or exc.http_status >= 500:
                gw.metrics.backend_errors.inc()
        else:
            log.exception("unexpected error in stream %s", ex.request_id)
            err = GatewayError(500, f"internal error ({type(exc).__name__})", type_="server_error")
        status, error = err.status, err.message
        if not recorded:
            recorded = True
            try:
                await gw.record(ex, status, error)
            except GatewayError as audit_exc:
                err = audit_exc
        yield _event(err.body())
    except (asyncio.CancelledError, GeneratorExit):
        status, error = 499, "client closed the stream"
        raise
    finally:
        if not recorded:
            gw.record_nowait(ex, status, error)
        gw.metrics.observe(ex.endpoint, status, time.perf_counter() - t0)
