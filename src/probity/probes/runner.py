"""Run probe prompts against any :class:`~probity.lm.TextGenerator`, with a completion cache.

Each prompt gets ``samples`` completions. The seed of a prompt is derived from the run's seed
and the prompt's *seed group* (its id, or for counterfactual pairs the pair and template, so
both sides of a pair draw with the same seed: common random numbers make the per-pair
differences less noisy). Every sample records its seed.

Completions are appended to a JSONL cache keyed by backend, prompt, sampling parameters, seed
and sample index, so an interrupted or repeated run only generates what is missing and a
rerun with other analysers only scores. Backend failures (timeouts, HTTP 5xx after the
generator's own retries, short answers) are retried ``retries`` more times and then recorded
as :class:`RunError`; they are never counted as data and never cached. Refusals and empty
completions are kept (and cached) with their ``status`` so the analysis can exclude and count
them.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import xxhash

from probity.errors import InputError, ProbityError
from probity.io import RejectSink, iter_jsonl
from probity.lm.base import GenerationParams, TextGenerator
from probity.probes.suite import ProbePrompt

_REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry|i am sorry|i can(?:no|'|’)t|i cannot|i won'?t|i will not|as an ai\b|"
    r"i'?m not able to|i am not able to|i must decline)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sample:
    """One completion of one prompt. ``status`` is ``ok``, ``refusal`` or ``empty``; only
    ``ok`` samples are analysed. ``seed`` is the seed of the generate call that produced it and
    ``index`` its position among that prompt's samples."""

    prompt_id: str
    index: int
    seed: int
    text: str
    status: str = "ok"
    finish_reason: str = "stop"
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunError:
    """A prompt whose completions could not be obtained; ``missing`` samples were lost."""

    prompt_id: str
    message: str
    attempts: int
    missing: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunOutput:
    """All samples of a run (prompt-major, index order) and the errors."""

    model: str
    samples: list[Sample]
    errors: list[RunError]
    seed: int
    samples_per_prompt: int
    generated: int
    cached: int
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for s in self.samples:
            counts[s.status] = counts.get(s.status, 0) + 1
        return {
            "model": self.model,
            "seed": self.seed,
            "samples_per_prompt": self.samples_per_prompt,
            "completions": len(self.samples),
            "generated": self.generated,
            "from_cache": self.cached,
            "errors": len(self.errors),
            "lost_samples": sum(e.missing for e in self.errors),
            "refusals": counts.get("refusal", 0),
            "empty": counts.get("empty", 0),
            "generation_seconds": round(self.seconds, 3),
            "params": self.params,
            "error_messages": [e.to_dict() for e in self.errors[:20]],
        }


def classify(text: str, finish_reason: str) -> str:
    """``refusal`` for a refusal (by finish reason or a leading apology), ``empty`` for a
    blank completion, else ``ok``."""
    if finish_reason == "content_filter" or _REFUSAL.match(text):
        return "refusal"
    if not text.strip():
        return "empty"
    return "ok"


def derive_seed(seed: int, group: str, index: int) -> int:
    """A 31-bit seed from the run seed, a prompt's seed group and a sample index."""
    return xxhash.xxh64_intdigest(f"{seed}\x1f{group}\x1f{index}".encode()) & 0x7FFFFFFF


def backend_id(generator: TextGenerator) -> str:
    """What identifies a backend in cache keys: its type, URL (for HTTP) and model name."""
    url = getattr(generator, "base_url", "")
    return f"{type(generator).__name__}|{url}|{getattr(generator, 'name', '?')}"


def default_cache_path(generator: TextGenerator) -> Path:
    """``<probity home>/cache/probes/<backend hash>.jsonl``."""
    from probity.home import cache_dir

    d = cache_dir() / "probes"
    d.mkdir(parents=True, exist_ok=True)
    return d / f"{xxhash.xxh64_hexdigest(backend_id(generator).encode())}.jsonl"


class CompletionCache:
    """An append-only JSONL file of completions keyed by a hash of everything that made them.

    Appends are flushed after each prompt, so a crash loses at most the prompt in flight; a
    torn last line is skipped on load (not an error). Not atomic-rename based on purpose: a
    cache grows line by line and rewriting it per prompt would be quadratic.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        if self.path.exists():
            if self.path.is_dir():
                raise InputError(f"cache path {str(self.path)!r} is a directory, not a file")
            for _, rec in iter_jsonl(self.path, rejects=RejectSink()):
                if "key" in rec:
                    self._data[rec["key"]] = rec
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._data.get(key)

    def put_many(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            for rec in records:
                self._data[rec["key"]] = rec
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()


class ProbeRunner:
    """Generate ``samples`` completions per prompt, reusing cached ones.

    ``cache`` is a path, ``None`` for the default path under the Probity home, or ``False`` for
    no cache. ``concurrency`` (default: the generator's, else 4) applies to HTTP backends;
    local models run one prompt at a time (each call batches that prompt's samples).
    ``chat`` sends each prompt as one user message through ``generator.chat``.
    """

    def __init__(
        self,
        generator: TextGenerator,
        *,
        samples: int = 20,
        seed: int = 0,
        max_new_tokens: int = 40,
        temperature: float = 1.0,
        top_p: float = 1.0,
        cache: str | os.PathLike[str] | bool | None = None,
        concurrency: int | None = None,
        retries: int = 1,
        chat: bool = False,
    ) -> None:
        if samples < 1:
            raise InputError(f"samples must be >= 1, got {samples}")
        if retries < 0:
            raise InputError(f"retries must be >= 0, got {retries}")
        self.generator = generator
        self.samples = samples
        self.seed = seed
        self.base_params = GenerationParams(
            max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p
        )
        self.retries = retries
        self.chat = chat
        self.is_http = hasattr(generator, "base_url")
        self.concurrency = max(1, concurrency or getattr(generator, "concurrency", 4) or 4)
        if cache is False:
            self.cache: CompletionCache | None = None
        else:
            path = default_cache_path(generator) if cache in (None, True) else cache
            self.cache = CompletionCache(path)  # type: ignore[arg-type]
        self._backend = backend_id(generator)

    def _key(self, prompt: ProbePrompt, index: int) -> str:
        p = self.base_params
        ident = [
            self._backend,
            self.chat,
            prompt.text,
            p.max_new_tokens,
            p.temperature,
            p.top_p,
            self.seed,
            prompt.attrs.get("seed_group", prompt.id),
            index,
        ]
        return xxhash.xxh128_hexdigest(json.dumps(ident).encode())

    def _call(self, prompt: ProbePrompt, n: int, seed: int) -> tuple[list[Any] | None, str, int]:
        """One generate/chat call for ``n`` samples, retried ``retries`` times on a
        ``ProbityError``; returns ``(completions or None, last error, attempts)``."""
        params = GenerationParams(
            max_new_tokens=self.base_params.max_new_tokens,
            temperature=self.base_params.temperature,
            top_p=self.base_params.top_p,
            n=n,
            seed=seed,
        )
        message = ""
        for attempt in range(1, self.retries + 2):
            try:
                if self.chat:
                    conv = [[{"role": "user", "content": prompt.text}]]
                    return self.generator.chat(conv, params)[:n], "", attempt
                return self.generator.generate([prompt.text], params)[:n], "", attempt
            except ProbityError as exc:
                message = str(exc)
        return None, message, self.retries + 1

    def _generate(
        self, prompt: ProbePrompt, start: int
    ) -> tuple[list[dict[str, Any]], RunError | None]:
        """Samples ``start..samples-1`` of one prompt: one call asking for all of them; when a
        backend returns fewer choices than asked (some ignore ``n``), follow-up calls with
        fresh seeds ask for the rest until one returns nothing new."""
        n = self.samples - start
        group = prompt.attrs.get("seed_group", prompt.id)
        recs: list[dict[str, Any]] = []
        message, attempts = "", 0
        while len(recs) < n:
            j0 = start + len(recs)
            seed = derive_seed(self.seed, group, j0)
            outs, message, tries = self._call(prompt, n - len(recs), seed)
            attempts += tries
            if not outs:
                break
            for k, c in enumerate(outs):
                recs.append(
                    {
                        "key": self._key(prompt, j0 + k),
                        "prompt_id": prompt.id,
                        "index": j0 + k,
                        "seed": seed,
                        "text": c.text,
                        "finish_reason": c.finish_reason,
                        "status": classify(c.text, c.finish_reason),
                    }
                )
        if len(recs) == n:
            return recs, None
        why = f"backend returned {len(recs)} of {n} completions" + (
            f" ({message})" if message else ""
        )
        return recs, RunError(prompt.id, why, attempts, n - len(recs))

    def run(
        self, prompts: Sequence[ProbePrompt], on_progress: Callable[[int], None] | None = None
    ) -> RunOutput:
        """Complete every prompt; ``on_progress(k)`` is called as each prompt finishes."""
        if not prompts:
            raise InputError("no prompts to run (did the filters remove them all?)")
        t0 = time.perf_counter()
        todo: list[tuple[ProbePrompt, int]] = []
        for p in prompts:
            start = next(
                (
                    j
                    for j in range(self.samples)
                    if self.cache is None or self.cache.get(self._key(p, j)) is None
                ),
                self.samples,
            )
            if start < self.samples:
                todo.append((p, start))
            elif on_progress:
                on_progress(1)
        errors: list[RunError] = []
        fresh: dict[str, dict[str, Any]] = {}

        def done(recs: list[dict[str, Any]], err: RunError | None) -> None:
            for r in recs:
                fresh[r["key"]] = r
            if self.cache is not None:
                self.cache.put_many(recs)
            if err is not None:
                errors.append(err)
            if on_progress:
                on_progress(1)

        if self.is_http and self.concurrency > 1 and len(todo) > 1:
            with ThreadPoolExecutor(self.concurrency) as pool:
                futs = [pool.submit(self._generate, p, s) for p, s in todo]
                for f in as_completed(futs):
                    done(*f.result())
        else:
            for p, s in todo:
                done(*self._generate(p, s))
        samples: list[Sample] = []
        n_cached = 0
        for p in prompts:
            for j in range(self.samples):
                key = self._key(p, j)
                rec = fresh.get(key)
                cached = rec is None
                if rec is None and self.cache is not None:
                    rec = self.cache.get(key)
                if rec is None:
                    continue  # lost: recorded in errors
                n_cached += cached
                samples.append(
                    Sample(
                        p.id,
                        j,
                        int(rec["seed"]),
                        rec["text"],
                        rec["status"],
                        rec.get("finish_reason", "stop"),
                        cached,
                    )
                )
        params = {**self.base_params.to_dict(), "chat": self.chat}
        for k in ("n", "seed", "stop", "top_k"):
            params.pop(k, None)
        return RunOutput(
            getattr(self.generator, "name", "?"),
            samples,
            sorted(errors, key=lambda e: e.prompt_id),
            self.seed,
            self.samples,
            len(fresh),
            n_cached,
            time.perf_counter() - t0,
            params,
        )
