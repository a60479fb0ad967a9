"""The gateway's only contact with the guard and watermark engines (kept thin on purpose).

Everything here forwards to :mod:`probity.guard` and :mod:`probity.watermark`; the gateway
implements no scanner, policy, audit chain or watermark of its own.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

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
    """Loads each policy's :class:`probity.guard.Guard` once and keeps it (thread-safe)."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, policy: str) -> Any:
        guard = self._cache.get(policy)
        if guard is not None:
            return guard
        with self._lock:
            if policy not in self._cache:
                g = _guard_module()
                try:
                    self._cache[policy] = g.Guard.from_policy(policy)
                except ProbityError:
                    raise
                except (OSError, ValueError) as exc:
                    raise UnknownKeyError(f"cannot load policy {policy!r}: {exc}") from exc
            return self._cache[policy]


def new_vault() -> Any:
    """A fresh PII vault for one request (placeholders in, originals restored out)."""
    return _guard_module().PiiVault()


def scan_context(
    direction: str, *, prompt: str | None, guard: Any, metadata: dict[str, Any]
) -> Any:
    from probity.guard import ScanContext

    mode = getattr(guard.policy, "mode", "factual") or "factual"
    return ScanContext(
        direction=direction, prompt=prompt, policy=guard.policy.name, mode=mode, metadata=metadata
    )


def open_audit_log(path: str | Path) -> Any:
    return _guard_module().AuditLog(path)


def audit_entry(verdict: Any, guard: Any, *, include_text: bool, **extra: Any) -> dict[str, Any]:
    """One audit record through the guard's ``audit_record`` (policy digest, scanner versions)."""
    g = _guard_module()
    return g.audit_record(
        verdict, guard.policy, scanner_versions(guard), include_text=include_text, **extra
    )


def scanner_versions(guard: Any) -> dict[str, str]:
    """Scanner name -> version over both directions (what the audit log records)."""
    return {**guard.scanners("input"), **guard.scanners("output")}


def verify_audit_log(path: str | Path) -> Any:
    return _guard_module().AuditLog.verify(path)


# -- watermark ------------------------------------------------------------------------------


def watermark_available() -> bool:
    return importlib.util.find_spec("probity.watermark") is not None


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
        self.scheme = make_scheme(cfg.scheme, key=key, gamma=cfg.gamma, delta=cfg.delta)

    def processors(self, vocab_size: int) -> list[Any]:
        return [self.scheme.logits_processor(vocab_size)]

    def public_params(self) -> dict[str, Any]:
        """The scheme's parameters without the secret key (goes into every response)."""
        return dict(self.scheme.public_params())

    def detect(self, text: str, model: Any, fpr: float | None = None) -> dict[str, Any]:
        from probity.watermark import detect_text

        det = detect_text(text, self.scheme, model, fpr=fpr or self.cfg.detect_fpr)
        return det.to_dict()


def optional_engine(module: str) -> Any | None:
    """Import ``module`` if installed (citations, overlap), else ``None``."""
    if importlib.util.find_spec(module) is None:
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
