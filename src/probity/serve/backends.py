"""Where the gateway's completions come from: a local model or an upstream endpoint.

Both backends take a :class:`GenRequest` and give :class:`Choice` objects, flat and ordered
the OpenAI way (``index = prompt_index * n + j``):

* :class:`LocalBackend` holds one :class:`probity.lm.HFModel`, loaded once, and a dynamic
  batcher: requests queue up while the model is busy and the next ``generate`` call takes every
  waiting request with the same sampling parameters (up to ``max_batch`` prompts). Requests
  with a ``seed`` run alone so that the same seed always gives the same text. The watermark's
  ``LogitsProcessor`` is applied to every step. A stream generates alone, with a logits
  processor that changes nothing but reads each step's tokens (:class:`_TokenTap`), so text
  leaves while the model is still generating (``HFModel`` has no token callback of its own).
* :class:`UpstreamBackend` (:mod:`probity.serve.upstream`) calls OpenAI-compatible endpoints,
  passing streams through chunk by chunk, with fallbacks and health checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from probity.errors import BackendError, ProbityError
from probity.lm.base import GenerationParams, cut_at_stop
from probity.serve.config import BackendConfig
from probity.serve.requests import text_parts


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


# -- local ----------------------------------------------------------------------------------


@dataclass
class _Pending:
    req: GenRequest
    future: asyncio.Future[Generation]
    key: tuple[Any, ...]
    taps: list[Any] = field(default_factory=list)  # extra logits processors (alone only)


#: Streams with at most this many rows (prompts x n) get token-level streaming; HFModel
#: generates in chunks of 16 rows, and a tap follows one chunk.
_LIVE_ROWS = 16


class _TokenTap:
    """A logits processor that changes nothing: at every step it decodes what each row has
    generated so far and hands the new text to ``emit(row, text)`` (from the generation
    thread). Text that could still become a stop sequence is held back; a row stops at its
    stop sequence or end-of-sequence token. The step's own token is seen at the next step, so
    the last one comes from the finished generation."""

    def __init__(self, model: Any, stop: Sequence[str], emit: Any) -> None:
        self.model = model
        self.stop = tuple(stop)
        self.hold = max((len(x) for x in self.stop), default=1) - 1
        self.emit = emit
        self.plen: int | None = None
        self.sent: dict[int, str] = {}
        self.done: set[int] = set()

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.plen is None:
            self.plen = int(input_ids.shape[1])
            return scores
        eos = self.model.eos_token_id
        pad = getattr(self.model.tokenizer, "pad_token_id", None)
        for row, ids in enumerate(input_ids[:, self.plen :].tolist()):
            if row in self.done:
                continue
            if eos is not None and eos in ids:
                ids = ids[: ids.index(eos)]
                self.done.add(row)
            text = self.model.decode([t for t in ids if t != pad or t == eos])
            ready, hit = cut_at_stop(text, self.stop)
            if hit:
                self.done.add(row)
            elif row not in self.done:
                ready = text[: len(text) - self.hold] if self.hold else text
                ready = ready.rstrip("\ufffd")  # a character still being decoded
            prev = self.sent.get(row, "")
            if len(ready) > len(prev) and ready.startswith(prev):
                self.emit(row, ready[len(prev) :])
                self.sent[row] = ready
        return scores


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
        self.live_deltas = 0  # streamed pieces that left while the model was generating

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
        return await self._submit(req)

    def _submit(self, req: GenRequest, taps: list[Any] | None = None) -> asyncio.Future[Generation]:
        p = req.params
        key = (
            req.kind,
            p.max_new_tokens,
            p.temperature,
            p.top_p,
            p.top_k,
            p.n,
            p.stop,
            p.seed if p.seed is None and not taps else ("alone", id(req)),
        )
        fut: asyncio.Future[Generation] = asyncio.get_running_loop().create_future()
        self._ensure_worker()
        self._queue.append(_Pending(req, fut, key, list(taps or ())))
        assert self._wake is not None
        self._wake.set()
        return fut

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
                        self._pool, self._generate, req0.kind, inputs, req0.params, batch[0].taps
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

    def _generate(
        self, kind: str, inputs: list[Any], params: GenerationParams, taps: Sequence[Any] = ()
    ) -> list[Any]:
        procs = [*self.logits_processors, *taps] or None
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
        """Token-level streaming: the request generates alone with a :class:`_TokenTap`, and
        text reaches the client while the model is still generating. A model without a
        tokenizer (or a request over 16 rows) is generated whole and replayed."""
        rows = len(req.inputs) * req.params.n
        if rows > _LIVE_ROWS or not hasattr(self.model, "tokenizer"):
            return _replay(await self.complete(req))
        loop = asyncio.get_running_loop()
        q: asyncio.Queue[Delta] = asyncio.Queue()

        def emit(row: int, text: str) -> None:
            loop.call_soon_threadsafe(q.put_nowait, Delta(row, text))

        fut = self._submit(req, [_TokenTap(self.model, req.params.stop, emit)])
        return self._live(q, fut)

    async def _live(
        self, q: asyncio.Queue[Delta], fut: asyncio.Future[Generation]
    ) -> AsyncIterator[Delta]:
        sent: dict[int, str] = {}
        while True:
            getter = asyncio.ensure_future(q.get())
            try:
                done, _ = await asyncio.wait({getter, fut}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not getter.done():
                    getter.cancel()  # the client left, or generation finished first
            if getter not in done:
                break
            d = getter.result()
            sent[d.index] = sent.get(d.index, "") + d.text
            self.live_deltas += 1
            yield d
        while not q.empty():
            d = q.get_nowait()
            sent[d.index] = sent.get(d.index, "") + d.text
            self.live_deltas += 1
            yield d
        gen = fut.result()  # raises what generation raised
        for ch in gen.choices:
            got = sent.get(ch.index, "")
            if ch.text.startswith(got) and len(ch.text) > len(got):
                yield Delta(ch.index, ch.text[len(got) :])
            yield Delta(ch.index, "", ch.finish_reason)
        yield Delta(-1, usage=_usage_dict(gen))


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


# The upstream backend lives in its own module; re-exported here so both backends are found in
# one place.
from probity.serve.upstream import UpstreamBackend, UpstreamHTTPError  # noqa: E402

__all__ = [
    "Choice",
    "Delta",
    "GenRequest",
    "Generation",
    "LocalBackend",
    "UpstreamBackend",
    "UpstreamHTTPError",
]
