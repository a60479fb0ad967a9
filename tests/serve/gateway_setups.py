"""Gateway configurations the serve tests share: an upstream gateway in front of a fake, and a
local tiny-model gateway with a watermark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from probity.serve import ServerThread, create_app
from probity.serve.config import GatewayConfig


def start_upstream_gateway(tmp_path: Path, base_url: str, **extra: Any) -> ServerThread:
    """A started gateway (default policy, no disclaimers) in front of ``base_url``; its audit
    log is ``tmp_path / "audit.jsonl"``. ``extra`` adds or replaces top-level config fields."""
    cfg = GatewayConfig.model_validate(
        {
            "policy": "default",
            "log_requests": False,
            "append_disclaimers": False,
            "backend": {"kind": "upstream", "base_url": base_url, "model": "echo"},
            "audit": {"path": str(tmp_path / "audit.jsonl")},
            **extra,
        }
    )
    return ServerThread(create_app(cfg)).start()


def local_watermarked_config(
    model_dir: Path, tmp_path: Path, key: str, max_tokens: int, **backend: Any
) -> GatewayConfig:
    """The tiny local model served as ``tiny`` with watermark ``key`` (gamma 0.25, delta 4).

    The tiny random model writes control characters and odd bytes that the default policy
    would strip or block; a secrets-only policy returns its text untouched, so detection sees
    exactly what was sampled."""
    policy = tmp_path / "secrets-only.yaml"
    policy.write_text(
        "name: secrets-only\ninput:\n  - scanner: secrets\n"
        "output:\n  - scanner: secrets\n    action: redact\n"
    )
    return GatewayConfig.model_validate(
        {
            "policy": str(policy),
            "log_requests": False,
            "append_disclaimers": False,
            "backend": {
                "kind": "local",
                "model": str(model_dir),
                "served_name": "tiny",
                "threads": 1,
                **backend,
            },
            "watermark": {"key": key, "gamma": 0.25, "delta": 4.0},
            "limits": {"max_tokens": max_tokens},
            "audit": {"path": str(tmp_path / "audit.jsonl")},
        }
    )


#: The header that asks the gateway for C2PA content credentials.
ASK_C2PA = {"X-Probity-C2PA": "true"}


def require_c2pa() -> Any:
    """Skip the calling test module without the c2pa extra; returns ``c2pa_text``."""
    import pytest

    pytest.importorskip("c2pa", reason="the c2pa extra (c2pa-python) is not installed")
    return pytest.importorskip("c2pa_text", reason="the c2pa extra (c2pa-text) is not installed")
