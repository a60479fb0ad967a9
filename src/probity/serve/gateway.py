"""The gateway's state and decisions: keys, policies, guarding, what clients see, audit records.

Routes (:mod:`probity.serve.app`) and streaming (:mod:`probity.serve.streaming`) call into one
:class:`Gateway`; it holds the configuration, the backend, the key store and its throttles,
the per-policy guards, the watermark, the audit writer and the metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import Request

from probity.errors import ConfigError, ProbityError
from probity.home import audit_log_path
from probity.serve import _engines
from probity.serve.audit import AuditWriter, check_tail
from probity.serve.auth import FailureLimiter, KeyStore, bearer_token
from probity.serve.backends import Generation, LocalBackend, UpstreamBackend
from probity.serve.config import POLICY_HEADER, ApiKeyConfig, GatewayConfig
from probity.serve.credentials import CredentialSigner
from probity.serve.errors import GatewayError
from probity.serve.keyfile import load_keys_file, signature
from probity.serve.metrics import GatewayMetrics
from probity.serve.quotas import Quotas
from probity.text import text_digest
from probity.types import Verdict

log = logging.getLogger("probity.serve")

#: Finish reason for a blocked or redacted answer (as hosted OpenAI-compatible services use).
CONTENT_FILTER = "content_filter"
_SEVERITY = {"allow": 0, "flag": 1, "redact": 2, "block": 3}


@dataclass
class Caller:
    """Who is calling and under which policy."""

    key_id: str | None
    policy: str
    findings: str = "full"


@dataclass
class Exchange:
    """What one request accumulates on its way through (becomes the audit record)."""

    request_id: str
    endpoint: str
    caller: Caller
    started: float
    guard: Any = None
    vault: Any = None
    input_texts: list[str] = field(default_factory=list)  # as the client sent them
    input_verdicts: list[Verdict] = field(default_factory=list)
    output_texts: list[str] = field(default_factory=list)  # as the backend wrote them
    output_verdicts: list[Verdict] = field(default_factory=list)
    stream: bool = False
    model: str = ""
    tokens: int = 0
    credentials: bool = False  # C2PA content credentials asked for (or `always`)
    credited: int = 0  # choices that got them


def finding_view(f: dict[str, Any], level: str) -> dict[str, Any]:
    """One finding as a client with ``findings: level`` sees it."""
    if level == "summary":
        return {"source": f["source"], "category": f["category"], "action": f["action"]}
    return f


def verdict_view(v: Verdict, level: str = "full") -> dict[str, Any]:
    """A verdict for clients: never the text; findings per ``level`` (full|summary|none)."""
    d = v.to_dict()
    d.pop("text", None)
    if level == "none":
        d.pop("findings", None)
    else:
        d["findings"] = [finding_view(f, level) for f in d["findings"]]
    return d


def _audit_findings(verdicts: list[Verdict], guard: Any) -> list[dict[str, Any]]:
    """Each verdict's action and findings, in the guard's audit-record shape."""
    return [
        {
            "item": i,
            "action": v.action,
            "findings": _engines.audit_entry(v, guard, include_text=False)["findings"],
        }
        for i, v in enumerate(verdicts)
    ]


def _digest(texts: list[str]) -> str | None:
    """sha256 of ``texts`` joined by U+001E (record separator); None when there are none."""
    return text_digest("\x1e".join(texts)) if texts else None


class Gateway:
    """The gateway's state: config, backend, keys, guards, watermark, audit log, metrics."""

    def __init__(
        self, cfg: GatewayConfig, *, backend: Any = None, audit_path: str | None = None
    ) -> None:
        self.cfg = cfg
        self.auth_required = bool(cfg.keys or cfg.keys_file)
        self._keys_sig = signature(cfg.keys_file) if cfg.keys_file else None
        self._keys_checked = time.monotonic()
        self.keys, self.key_cfg = self._load_keys()
        self.auth_failures = FailureLimiter(cfg.auth.failures_per_minute)
        self.quotas = Quotas()
        self.guards = _engines.Guards()
        self.metrics = GatewayMetrics()
        self.audit_path = audit_path or cfg.audit.path or str(audit_log_path())
        check_tail(self.audit_path)  # a torn last record: refuse to start, say how to repair
        self.audit = AuditWriter(_engines.open_audit_log(self.audit_path), fsync=cfg.audit.fsync)
        self.watermark: _engines.Watermark | None = None
        self.credentials = CredentialSigner(cfg.content_credentials)
        self._backend = backend
        self.started = time.time()
        self.citations = _engines.optional_engine("probity.citations")
        self.overlap = _engines.optional_engine("probity.overlap")
        self._indexes: dict[str, Any] = {}
        self._index_lock = threading.Lock()

    # startup ----------------------------------------------------------------------------

    def start(self) -> None:
        """Load the default policy, the watermark, a configured C2PA identity and the backend
        (model loaded once)."""
        self.credentials.load()
        self.guards.get(self.cfg.policy)
        for k in self.cfg.keys:
            for p in (k.policy, *k.allowed_policies):
                if p:
                    self.guards.get(p)
        if self._backend is None:
            b = self.cfg.backend
            if b.kind == "local":
                if b.threads is not None:
                    import torch

                    torch.set_num_threads(b.threads)
                procs: list[Any] = []
                backend = LocalBackend.from_config(b)
                if self.cfg.watermark is not None and self.cfg.watermark.enabled:
                    self.watermark = _engines.Watermark(self.cfg.watermark)
                    procs = self.watermark.processors(backend.model.vocab_size)
                backend.logits_processors = procs
                self._backend = backend
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
        self.keys.close()
        if self._backend is not None:
            await self._backend.aclose()

    # keys ---------------------------------------------------------------------------------

    def _load_keys(self) -> tuple[KeyStore, dict[str, ApiKeyConfig]]:
        entries = list(self.cfg.keys)
        if self.cfg.keys_file:
            entries += load_keys_file(self.cfg.keys_file)
        ids = [k.id for k in entries]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ConfigError(f"API key id(s) both in the config and the keys file: {dup}")
        return KeyStore((k.id, k.hash) for k in entries), {k.id: k for k in entries}

    def maybe_reload_keys(self, *, force: bool = False) -> bool:
        """Reload ``keys_file`` when it changed (checked at most once a second); True when
        the key store was swapped. A file that does not load leaves the old keys in place."""
        if not self.cfg.keys_file:
            return False
        now = time.monotonic()
        if not force and now - self._keys_checked < 1.0:
            return False
        self._keys_checked = now
        sig = signature(self.cfg.keys_file)
        if sig == self._keys_sig and not force:
            return False
        self._keys_sig = sig
        try:
            keys, key_cfg = self._load_keys()
        except ProbityError as exc:
            log.error("keys file not reloaded (keeping the previous keys): %s", exc)
            return False
        old, self.keys, self.key_cfg = self.keys, keys, key_cfg
        old.close()
        log.info("keys reloaded: %d key(s)", len(keys))
        return True

    # auth, policy, quotas ----------------------------------------------------------------

    async def authenticate(self, request: Request, *, use_header: bool = True) -> Caller:
        """The caller's key id and policy (the header's, when granted); 401/403/429 otherwise."""
        caller = await self.identify(request)
        if use_header:
            caller.policy = self.resolve_policy(caller, request.headers.get(POLICY_HEADER))
        return caller

    async def identify(self, request: Request) -> Caller:
        """The caller's key id and its own policy; 401 when keys are configured and none fits,
        429 when the client address failed too often in the last minute."""
        key_id: str | None = None
        self.maybe_reload_keys()
        if self.auth_required:
            client = request.client.host if request.client else "?"
            wait = self.auth_failures.retry_after(client)
            if wait:
                self.metrics.auth_failures.inc()
                raise GatewayError(
                    429,
                    "too many failed authentications from this address; try again later",
                    code="rate_limit_exceeded",
                    type_="rate_limit_error",
                    headers={"Retry-After": str(wait)},
                )
            presented = bearer_token(
                request.headers.get("authorization"), request.headers.get("api-key")
            )
            key_id = await self.keys.averify(presented)
            if key_id is None:
                self.auth_failures.failed(client)
                self.metrics.auth_failures.inc()
                raise GatewayError(
                    401,
                    "missing or invalid API key: send it as 'Authorization: Bearer <key>'",
                    code="invalid_api_key",
                )
        kc = self.key_cfg.get(key_id) if key_id else None
        return Caller(
            key_id,
            (kc.policy if kc and kc.policy else None) or self.cfg.policy,
            (kc.findings if kc and kc.findings else None) or self.cfg.findings,
        )

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

    def admit(self, caller: Caller) -> None:
        """HTTP 429 with ``Retry-After`` when the caller's key is over its rate or budget."""
        kc = self.key_cfg.get(caller.key_id) if caller.key_id else None
        if kc is None:
            return
        over = self.quotas.admit(
            kc.id, requests_per_minute=kc.requests_per_minute, tokens_per_day=kc.tokens_per_day
        )
        if over is not None:
            reason, wait = over
            raise GatewayError(
                429,
                reason,
                code="rate_limit_exceeded",
                type_="rate_limit_error",
                headers={"Retry-After": str(wait)},
            )

    def spend(self, ex: Exchange, gen: Generation | None = None, tokens: int = 0) -> None:
        """Count a finished request's tokens against its key's daily budget."""
        if gen is not None:
            tokens += gen.prompt_tokens + gen.completion_tokens
        ex.tokens += tokens
        if ex.caller.key_id is not None:
            self.quotas.spend(ex.caller.key_id, tokens)

    # guarding ----------------------------------------------------------------------------

    def context(self, ex: Exchange, direction: str, prompt: str | None) -> Any:
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
        ctx = self.context(ex, direction, prompt)
        v = ex.guard.check(text, direction=direction, context=ctx, vault=vault)
        self.metrics.verdicts.labels(direction=direction, action=v.action).inc()
        return v

    async def check_input(self, ex: Exchange, texts: list[str]) -> list[Verdict]:
        """Scan every client-supplied text (all turns, assistant ones included); 400
        ``content_filter`` when any is blocked. Returns one verdict per text."""
        ex.input_texts.extend(texts)

        def run() -> list[Verdict]:
            return [self._check(ex, t, "input", None) for t in texts]

        verdicts = await anyio.to_thread.run_sync(run)
        ex.input_verdicts.extend(verdicts)
        if any(v.action == "block" for v in verdicts):
            name = _engines.policy_info(ex.guard).name
            blocking = [
                f
                for v in verdicts
                if v.action == "block"
                for f in v.findings
                if f.action == "block"
            ]
            if ex.caller.findings == "none":
                detail = ""
            elif ex.caller.findings == "summary":
                cats = sorted({f"{f.source}: {f.category}" for f in blocking}) or ["blocked"]
                detail = ": " + ", ".join(cats)
            else:
                reasons = [f.message or f"{f.source}: {f.category}" for f in blocking]
                detail = ": " + ("; ".join(reasons) or "blocked")
            raise GatewayError(
                400,
                f"the prompt was blocked by policy {name!r}{detail}",
                code=CONTENT_FILTER,
                extra={"probity": self.extension(ex)},
            )
        return verdicts

    async def check_outputs(self, ex: Exchange, gen: Generation, prompt: str) -> None:
        ex.output_texts.extend(c.text for c in gen.choices)

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

    async def attach_credentials(self, ex: Exchange, gen: Generation) -> None:
        """Embed C2PA content credentials in each final answer when the request asked."""
        if not ex.credentials:
            return
        wm = self.watermark.public_params() if self.watermark else None
        signed = await anyio.to_thread.run_sync(
            self.credentials.sign, [c.text for c in gen.choices], wm, ex.model
        )
        for ch, text in zip(gen.choices, signed, strict=True):
            if text is not None:
                ch.text = text
                ex.credited += 1

    def disclaimer_suffix(self, v: Verdict) -> str:
        """The policy's disclaimers for an answer, as a paragraph appended to it."""
        if not self.cfg.append_disclaimers or not v.disclaimers or v.action == "block":
            return ""
        return "\n\n" + " ".join(v.disclaimers)

    def extension(self, ex: Exchange) -> dict[str, Any]:
        """The ``probity`` object added to every response (never the watermark key); findings
        as the caller's key allows (``full``, ``summary`` or ``none``)."""
        g = ex.guard
        info = _engines.policy_info(g) if g else None
        level = ex.caller.findings
        return {
            "request_id": ex.request_id,
            "policy": {"name": info.name, "digest": info.digest} if info else None,
            "key_id": ex.caller.key_id,
            "input": [verdict_view(v, level) for v in ex.input_verdicts],
            "output": [verdict_view(v, level) for v in ex.output_verdicts],
            "watermark": self.watermark.public_params() if self.watermark else None,
            **(
                {"content_credentials": {"attached": ex.credited, "format": "c2pa-text"}}
                # under `always`, a stream's last event says none were attached
                if ex.credentials or (ex.stream and self.cfg.content_credentials.always)
                else {}
            ),
        }

    # audit -------------------------------------------------------------------------------

    async def record(self, ex: Exchange, status: int, error: str | None = None) -> None:
        """Append the request's decision to the hash-chained log; returns once flushed.

        A log that cannot be written is HTTP 503 for the client (the path stays in the
        server log)."""
        try:
            await self.audit.write(self.audit_entry(ex, status, error))
        except Exception as exc:
            self.metrics.audit_failures.inc()
            raise GatewayError(
                503,
                "the audit log cannot be written, so no answer is released; "
                "the operator has the details",
                code="audit_unavailable",
                type_="server_error",
            ) from exc
        self.metrics.audit_records.inc()

    def record_nowait(self, ex: Exchange, status: int, error: str | None = None) -> None:
        """Queue the record without waiting (a cancelled stream cannot wait)."""

        def done(f: Any) -> None:
            if f.exception() is None:
                self.metrics.audit_records.inc()
            else:
                self.metrics.audit_failures.inc()

        self.audit.submit(self.audit_entry(ex, status, error)).add_done_callback(done)

    def audit_entry(self, ex: Exchange, status: int, error: str | None) -> dict[str, Any]:
        """The audit record of one request (via the guard's ``audit_record``): the decisive
        verdict, plus the hashes of the client's texts and of the answers, and every verdict's
        findings in both directions."""
        verdicts = ex.input_verdicts + ex.output_verdicts
        if ex.guard is None:  # failed before any policy was loaded
            ex.guard = self.guards.get(ex.caller.policy)
        decisive = (
            max(verdicts, key=lambda v: _SEVERITY[v.action])
            if verdicts
            else Verdict("allow", policy=_engines.policy_info(ex.guard).name, direction="input")
        )
        latency_ms = round((time.perf_counter() - ex.started) * 1000.0, 3)
        raw = dict(zip(map(id, ex.input_verdicts), ex.input_texts, strict=False))
        raw.update(zip(map(id, ex.output_verdicts), ex.output_texts, strict=False))
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
            tokens=ex.tokens,
            # The decisive text as it arrived (a blocked text is emptied in its verdict).
            text_sha256=text_digest(raw.get(id(decisive), decisive.text)),
            input_sha256=_digest(ex.input_texts),
            output_sha256=_digest(ex.output_texts),
            input_actions=[v.action for v in ex.input_verdicts],
            output_actions=[v.action for v in ex.output_verdicts],
            input_findings=_audit_findings(ex.input_verdicts, ex.guard),
            output_findings=_audit_findings(ex.output_verdicts, ex.guard),
            content_credentials=ex.credited > 0,
            content_credentials_attached=ex.credited,
        )
