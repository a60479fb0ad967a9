"""The gateway's configuration: one YAML file validated by pydantic.

Example ``gateway.yaml``::

    host: 127.0.0.1
    port: 8080
    policy: default                 # used by anonymous callers and keys without a policy
    backend:
      kind: local                   # or: upstream
      model: probity-demo           # local: hub name or path; upstream: the model to ask for
      max_batch: 8                  # local: prompts generated together
    watermark:
      key: gateway                  # a key name in <home>/keys or a path (probity keys new)
      scheme: kgw
      gamma: 0.25
      delta: 2.0
    keys:                           # API keys, stored hashed (probity serve keys new)
      - id: team-a
        hash: "sha256:9f86d08..."
        policy: factual
        allowed_policies: [factual, strict]   # the X-Probity-Policy header may pick these
    limits:
      max_body_bytes: 1000000
      max_prompt_tokens: 4096
      max_tokens: 512
      max_n: 8
    audit:
      path: null                    # default: <home>/audit/log.jsonl
      include_text: false

Errors name the file, line and field (:func:`probity.config.load_config`).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from probity.config import ProbityModel, load_config
from probity.errors import ConfigError

#: The header a client sends to choose a policy (only among its key's ``allowed_policies``).
POLICY_HEADER = "X-Probity-Policy"
#: The header a client sends to ask for C2PA content credentials (``true``) or decline them.
C2PA_HEADER = "X-Probity-C2PA"


class UpstreamEndpoint(ProbityModel):
    """Another OpenAI-compatible endpoint serving the same model (``backend.fallbacks``)."""

    base_url: str
    api_key_env: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"base_url {v!r} must start with http:// or https://")
        return v


class BackendConfig(ProbityModel):
    """Where completions come from.

    ``local``: a transformers model (``model`` is a hub name, a folder or ``probity-demo``),
    loaded once at start-up, generating up to ``max_batch`` prompts together; requests arriving
    within ``batch_wait_ms`` milliseconds of each other with the same sampling parameters share
    one ``generate`` call. ``threads`` sets torch's intra-op threads (``torch.set_num_threads``,
    process-wide); on a small or shared machine 1 is often several times faster than the
    default, which oversubscribes the cores.

    ``upstream``: an OpenAI-compatible endpoint at ``base_url`` (with the ``/v1`` prefix); its
    API key is read from the environment variable ``api_key_env`` (never from the YAML file).
    Connect errors are retried ``connect_retries`` times; read errors and HTTP errors are not
    (the upstream may already have done the work). ``fallbacks`` are more endpoints for the
    same model, tried in order when one is unreachable or answers 5xx; with fallbacks every
    endpoint's ``GET /models`` is checked every ``health_interval_s`` seconds and unhealthy
    ones are tried last.
    """

    kind: Literal["local", "upstream"] = "local"
    model: str = "probity-demo"
    served_name: str | None = None
    device: str = "cpu"
    max_batch: int = Field(8, ge=1, le=256)
    batch_wait_ms: float = Field(2.0, ge=0, le=1000)
    base_url: str | None = None
    api_key_env: str | None = None
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(120.0, gt=0)
    connect_retries: int = Field(2, ge=0, le=10)
    max_connections: int = Field(128, ge=1)
    threads: int | None = Field(None, ge=1)
    fallbacks: tuple[UpstreamEndpoint, ...] = ()
    health_interval_s: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _upstream_needs_url(self) -> BackendConfig:
        if self.kind == "upstream":
            if not self.base_url:
                raise ValueError("an upstream backend needs base_url (e.g. http://host:8000/v1)")
            if not self.base_url.startswith(("http://", "https://")):
                raise ValueError(f"base_url {self.base_url!r} must start with http:// or https://")
        return self

    @property
    def name(self) -> str:
        """The model name clients see in ``/v1/models`` and must send as ``model``."""
        if self.served_name:
            return self.served_name
        if self.kind == "local" and os.sep in self.model:
            return Path(self.model).name or self.model
        return self.model


class WatermarkConfig(ProbityModel):
    """Watermarking of the local model's sampling (ignored by an upstream backend).

    ``key`` names a key created with ``probity keys new`` (or a path to one); ``scheme`` is
    ``kgw`` or ``gumbel`` (:func:`probity.watermark.make_scheme`); for ``kgw``, ``gamma`` is the
    green-list fraction in (0, 1) and ``delta`` the logit bias added to green tokens; ``params``
    go to ``make_scheme`` as they are (``context_width``, ``hard``, ...). Detection answers at
    false-positive rate ``detect_fpr``.
    """

    enabled: bool = True
    key: str = "gateway"
    scheme: str = "kgw"
    gamma: float = Field(0.25, gt=0, lt=1)
    delta: float = Field(2.0, ge=0)
    detect_fpr: float = Field(1e-4, gt=0, lt=1)
    params: dict[str, Any] = Field(default_factory=dict)


class ApiKeyConfig(ProbityModel):
    """One API key, stored as a hash: ``sha256:<hex>`` or ``scrypt:<n>:<r>:<p>:<salt>:<hex>``.

    ``policy`` is the key's policy (the server default when empty); ``allowed_policies`` the
    policies this key may pick per request with the ``X-Probity-Policy`` header. ``findings``
    is what this key's clients see of the guard's findings (``full``: scanner, category, score,
    spans; ``summary``: scanner, category and action only; ``none``: actions only; the server's
    ``findings`` when unset); the audit log always keeps everything. ``requests_per_minute`` and
    ``tokens_per_day`` (prompt + completion) cap the key: over them it gets HTTP 429 with
    ``Retry-After``.
    """

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    hash: str
    policy: str | None = None
    allowed_policies: tuple[str, ...] = ()
    findings: Literal["full", "summary", "none"] | None = None
    requests_per_minute: int | None = Field(None, ge=1)
    tokens_per_day: int | None = Field(None, ge=1)

    @field_validator("hash")
    @classmethod
    def _known_hash(cls, v: str) -> str:
        from probity.serve.auth import parse_hash

        parse_hash(v)  # raises ValueError with the reason
        return v


class LimitsConfig(ProbityModel):
    """Request limits. ``max_prompt_tokens`` counts the local model's tokens, or for an upstream
    backend an upper estimate: the larger of Probity's word tokens and UTF-8 bytes / 4.
    ``default_max_tokens`` is what a request without ``max_tokens`` gets (``max_tokens``, the
    cap, when unset). ``body_timeout_s`` is how long a client may take to send its body (HTTP
    408 after)."""

    max_body_bytes: int = Field(1_000_000, ge=256)
    max_prompt_tokens: int = Field(4096, ge=1)
    max_tokens: int = Field(512, ge=1)
    default_max_tokens: int | None = Field(None, ge=1)
    max_n: int = Field(8, ge=1)
    max_prompts: int = Field(16, ge=1)
    body_timeout_s: float = Field(30.0, gt=0)


class AuthConfig(ProbityModel):
    """Failed-authentication throttling: a client address with more than
    ``failures_per_minute`` rejected keys in the last minute gets HTTP 429 (with
    ``Retry-After``) without its key being checked at all."""

    failures_per_minute: int = Field(30, ge=1)


class StreamingConfig(ProbityModel):
    """The streaming output guard. Text is released ``window_tokens`` tokens at a time once
    the guard has scanned them together with the ``hold_tokens`` that follow; those last
    tokens are held back and scanned again with the next window, so a finding up to
    ``hold_tokens`` long is never released in part. The worst-case delay of a streamed token is
    ``window_tokens + hold_tokens`` upstream tokens (plus one scan). A token here is a run of
    up to 8 non-space characters with its leading space (close to a BPE token for prose and
    code)."""

    window_tokens: int = Field(16, ge=1, le=4096)
    hold_tokens: int = Field(8, ge=0, le=4096)


class AuditConfig(ProbityModel):
    """The hash-chained audit log (``probity guard log verify`` checks it). ``include_text``
    stores prompts and answers in it; off by default. ``fsync: false`` only flushes each batch
    to the operating system before answering (faster; a power cut may lose the last records);
    it applies to the gateway's group-commit writer, not to a log that brings its own
    ``append_many``."""

    path: str | None = None
    include_text: bool = False
    fsync: bool = True


class ContentCredentialsConfig(ProbityModel):
    """C2PA content credentials on answers (:mod:`probity.serve.credentials`).

    ``enabled``: clients may ask for them with ``X-Probity-C2PA: true``; ``always``: every
    non-streamed answer gets them unless the client sends ``X-Probity-C2PA: false``.
    ``chain`` / ``private_key``: a CA-issued C2PA signing certificate chain (PEM, leaf first)
    and its ES256 key; without them the Probity home's local identity signs
    (``<home>/keys/c2pa/``, created on first use)."""

    enabled: bool = True
    always: bool = False
    chain: str | None = None
    private_key: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> ContentCredentialsConfig:
        if (self.chain is None) != (self.private_key is None):
            raise ValueError("content_credentials: give both chain and private_key, or neither")
        if self.always and not self.enabled:
            raise ValueError("content_credentials: always needs enabled")
        return self


class GatewayConfig(ProbityModel):
    """The whole gateway configuration (see the module docstring for a YAML example)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    policy: str = "default"
    backend: BackendConfig = BackendConfig()
    watermark: WatermarkConfig | None = None
    keys: tuple[ApiKeyConfig, ...] = ()
    keys_file: str | None = None
    limits: LimitsConfig = LimitsConfig()
    auth: AuthConfig = AuthConfig()
    streaming: StreamingConfig = StreamingConfig()
    findings: Literal["full", "summary", "none"] = "full"
    audit: AuditConfig = AuditConfig()
    log_requests: bool = True
    citations_db: str | None = None
    overlap_indexes: tuple[str, ...] = ()
    append_disclaimers: bool = True
    content_credentials: ContentCredentialsConfig = ContentCredentialsConfig()

    @model_validator(mode="after")
    def _unique_ids(self) -> GatewayConfig:
        ids = [k.id for k in self.keys]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate API key id(s): {', '.join(sorted(dup))}")
        return self

    def check_bind(self, host: str | None = None) -> None:
        """Refuse to serve a non-loopback address without API keys (``ConfigError``)."""
        h = host or self.host
        if not self.keys and not self.keys_file and not is_loopback(h):
            raise ConfigError(
                f"refusing to bind {h!r} without API keys: anyone on the network could use it",
                hint="add keys with `probity serve keys new --id NAME` or bind 127.0.0.1",
            )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_gateway_config(path: str | os.PathLike[str]) -> GatewayConfig:
    """Load and validate ``gateway.yaml``; errors are ``ConfigError`` naming line and field.
    A relative ``keys_file`` (or C2PA ``chain`` / ``private_key``) is relative to the
    configuration file's folder."""
    cfg = load_config(path, GatewayConfig)
    here = Path(path).parent
    if cfg.keys_file and not Path(cfg.keys_file).is_absolute():
        cfg = cfg.model_copy(update={"keys_file": str(here / cfg.keys_file)})
    cc = cfg.content_credentials
    if cc.chain and cc.private_key:
        files = {
            k: v if Path(v).is_absolute() else str(here / v)
            for k, v in (("chain", cc.chain), ("private_key", cc.private_key))
        }
        missing = [f"{k} {v}" for k, v in files.items() if not Path(v).is_file()]
        if missing:
            raise ConfigError(f"{path}: content_credentials: no such file: {', '.join(missing)}")
        cfg = cfg.model_copy(update={"content_credentials": cc.model_copy(update=files)})
    return cfg
