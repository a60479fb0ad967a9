"""The gateway's only contact with the guard and watermark engines (kept thin on purpose).

Everything here forwards to :mod:`probity.guard` and :mod:`probity.watermark`; the gateway
implements no scanner, policy, audit chain or watermark of its own.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from probity.errors import ConfigError, MissingDependencyError, ProbityError, UnknownKeyError
from probity.serve.config import WatermarkConfig


def _guard_module() -> Any:
    try:
        import probity.guard as g

        g.Guard  # noqa: B018 - fail early when the guard engine is not installed
    except (ImportError, AttributeError) as exc:  # pragma: no cover - until guard lands
        raise ProbityError(
            "the guard engine (probity.guard.Guard) is not available in this installation",
            hint="install the full probity package",
        ) from exc
    return g


class Guards:
    """Each policy's :class:`probity.guard.Guard`, built once per process and shared.

    Guards are thread-safe for ``check`` and cost seconds to build (scanner models), so every
    gateway app in the process shares them. A policy given as a file path is rebuilt when the
    file changes (its modification time is part of the cache key).
    """

    _shared: ClassVar[dict[tuple[str, float], Any]] = {}
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._mine: dict[str, Any] = {}

    def get(self, policy: str) -> Any:
        guard = self._mine.get(policy)
        if guard is not None:
            return guard
        p = Path(policy)
        key = (policy, p.stat().st_mtime if p.is_file() else 0.0)
        with self._lock:
            if key not in self._shared:
                g = _guard_module()
                try:
                    self._shared[key] = g.Guard.from_policy(policy)
                except ProbityError:
                    raise
                except (OSError, ValueError) as exc:
                    raise UnknownKeyError(f"cannot load policy {policy!r}: {exc}") from exc
            self._mine[policy] = self._shared[key]
        return self._mine[policy]


def new_vault() -> Any:
    """A fresh PII vault for one request (placeholders in, originals restored out)."""
    return _guard_module().PiiVault()


def scan_context(
    direction: str, *, prompt: str | None, guard: Any, metadata: dict[str, Any]
) -> Any:
    from probity.guard import ScanContext

    info = policy_info(guard)
    return ScanContext(
        direction=direction, prompt=prompt, policy=info.name, mode=info.mode, metadata=metadata
    )


def open_audit_log(path: str | Path) -> Any:
    return _guard_module().AuditLog(path)


def audit_entry(verdict: Any, guard: Any, *, include_text: bool, **extra: Any) -> dict[str, Any]:
    """One audit record through the guard's ``audit_record`` (policy digest, scanner versions)."""
    g = _guard_module()
    info = policy_info(guard)
    return g.audit_record(verdict, info, info.scanners, include_text=include_text, **extra)


@dataclass(frozen=True)
class PolicyInfo:
    """What the gateway reads from a guard's policy on every request, computed once.

    ``Policy.digest`` hashes the canonical policy on each access and ``audit_record`` formats
    the policy object eagerly; this snapshot (name, digest, mode, audit settings, scanner
    versions) keeps both off the request path. Guards are immutable once built.
    """

    name: str
    digest: str
    mode: str
    audit: Any
    scanners: dict[str, str]

    def __str__(self) -> str:
        return self.name


_INFO: dict[int, PolicyInfo] = {}


def policy_info(guard: Any) -> PolicyInfo:
    info = _INFO.get(id(guard))
    if info is None:
        pol = guard.policy
        info = PolicyInfo(
            pol.name,
            pol.digest,
            getattr(pol, "mode", "factual") or "factual",
            getattr(pol, "audit", None),
            {**guard.scanners("input"), **guard.scanners("output")},
        )
        _INFO[id(guard)] = info
    return info


# -- watermark ------------------------------------------------------------------------------


class Watermark:
    """The configured watermark scheme: a logits processor for sampling and a detector."""

    def __init__(self, cfg: WatermarkConfig) -> None:
        try:
            from probity.watermark import load_key, make_scheme
        except ImportError as exc:
            raise MissingDependencyError("probity.watermark", "all") from exc
        try:
            key = load_key(cfg.key)
        except ProbityError:
            raise
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load watermark key {cfg.key!r}: {exc}",
                hint="create it with `probity keys new`",
            ) from exc
        self.cfg = cfg
        params = dict(cfg.params)
        if cfg.scheme == "kgw":
            params = {"gamma": cfg.gamma, "delta": cfg.delta, **params}
        self.scheme = make_scheme(cfg.scheme, key=key, **params)

    def processors(self, vocab_size: int) -> list[Any]:
        return [self.scheme.logits_processor(vocab_size)]

    def public_params(self) -> dict[str, Any]:
        """The scheme's parameters without the secret key (goes into every response)."""
        return dict(self.scheme.public_params())

    def detect(
        self, text: str, model: Any, fpr: float | None = None, prompt: str | None = None
    ) -> dict[str, Any]:
        """Detection at false-positive rate ``fpr`` (the config's when None); ``prompt`` is
        stripped from the text when echoed and used as context only."""
        from probity.watermark import detect_text

        det = detect_text(text, self.scheme, model, prompt=prompt, fpr=fpr or self.cfg.detect_fpr)
        return det.to_dict()


def optional_engine(module: str) -> Any | None:
    """Import ``module`` if installed (citations, overlap), else ``None``."""
    if importlib.util.find_spec(module) is None:
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
