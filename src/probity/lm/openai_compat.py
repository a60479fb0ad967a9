"""A :class:`~probity.lm.TextGenerator` for any OpenAI-compatible HTTP endpoint.

Uses httpx directly (not the ``openai`` package) so the core install stays small and the
retry policy is ours: connect errors, timeouts, HTTP 429 and 5xx are retried with exponential
backoff; other 4xx answers are reported at once with the server's message.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from probity.errors import BackendError, InputError
from probity.lm.base import Completion, GenerationParams, Message, check_prompts

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAICompatGenerator:
    """Completions from ``{base_url}/completions`` and ``{base_url}/chat/completions``.

    ``base_url`` includes the version prefix (``http://127.0.0.1:8000/v1``). Requests run
    ``concurrency`` at a time; each is retried up to ``max_retries`` times with backoff
    ``backoff * 2**attempt`` seconds on transient failures.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 4,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InputError(f"base URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.max_retries = max_retries
        self.backoff = backoff
        self.concurrency = max(1, concurrency)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if api_key:
            hdrs["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(timeout=timeout, headers=hdrs)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAICompatGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP -----------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        last: str = ""
        for attempt in range(self.max_retries + 1):
            try:
                resp = self._client.post(url, json=body)
            except httpx.TimeoutException as exc:
                last = f"timed out ({exc.__class__.__name__})"
            except httpx.TransportError as exc:
                last = f"cannot connect ({exc})"
            else:
                if resp.status_code < 400:
                    try:
                        return resp.json()
                    except ValueError as exc:
                        raise BackendError(
                            f"{url} returned invalid JSON: {resp.text[:200]!r}"
                        ) from exc
                message = _error_message(resp)
                if resp.status_code not in _RETRY_STATUS:
                    raise BackendError(f"{url} answered HTTP {resp.status_code}: {message}")
                last = f"HTTP {resp.status_code}: {message}"
            if attempt < self.max_retries:
                time.sleep(self.backoff * (2**attempt))
        raise BackendError(f"{url} failed after {self.max_retries + 1} attempts: {last}")

    def _body(self, params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.name,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        return body

    def _map(self, fn: Any, items: list[Any]) -> list[Any]:
        if self.concurrency == 1 or len(items) == 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(fn, items))

    # -- TextGenerator --------------------------------------------------------------------

    def generate(
        self, prompts: Sequence[str], params: GenerationParams | None = None
    ) -> list[Completion]:
        prompts = check_prompts(prompts)
        params = params or GenerationParams()
        base = self._body(params)

        def one(item: tuple[int, str]) -> list[Completion]:
            i, prompt = item
            data = self._post("/completions", {**base, "prompt": prompt})
            return _completions(data, i, params.n, key="text")

        return [c for group in self._map(one, list(enumerate(prompts))) for c in group]

    def chat(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams | None = None
    ) -> list[Completion]:
        if not conversations:
            raise InputError("no conversations given")
        params = params or GenerationParams()
        base = self._body(params)

        def one(item: tuple[int, Sequence[Message]]) -> list[Completion]:
            i, messages = item
            data = self._post("/chat/completions", {**base, "messages": list(messages)})
            return _completions(data, i, params.n, key="message")

        return [c for group in self._map(one, list(enumerate(conversations))) for c in group]


def _error_message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
        return str(err)[:300]
    except ValueError:
        return resp.text[:300] or resp.reason_phrase


def _completions(data: dict[str, Any], prompt_index: int, n: int, *, key: str) -> list[Completion]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise BackendError(f"response has no choices: {str(data)[:200]}")
    usage = data.get("usage") or {}
    out = []
    for j, ch in enumerate(sorted(choices, key=lambda c: c.get("index", 0))[:n]):
        if key == "message":
            text = (ch.get("message") or {}).get("content") or ""
        else:
            text = ch.get("text") or ""
        out.append(
            Completion(
                text=text,
                prompt_index=prompt_index,
                index=j,
                finish_reason=ch.get("finish_reason") or "stop",
                completion_tokens=int(usage.get("completion_tokens", 0) or 0),
                prompt_tokens=int(usage.get("prompt_tokens", 0) or 0),
                extra={k: v for k, v in data.items() if k not in ("choices",)},
            )
        )
    return out
