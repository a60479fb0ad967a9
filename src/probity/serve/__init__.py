"""The Probity gateway: an OpenAI-compatible server that guards and watermarks every request.

Point an OpenAI client at it (``base_url="http://127.0.0.1:8080/v1"``); the gateway applies
the caller's use-case policy to the prompt, calls a local watermarked model or an upstream
OpenAI-compatible endpoint, checks the answer, and appends every decision to the guard's
hash-chained audit log. See ``docs/gateway.md``.

Python::

    from probity.serve import create_app, load_gateway_config, serve
    app = create_app(load_gateway_config("gateway.yaml"))   # a FastAPI app
    serve(load_gateway_config("gateway.yaml"))               # uvicorn, blocking
"""

from probity.serve.app import CONTENT_FILTER, Gateway, GatewayError, create_app
from probity.serve.auth import KeyStore, hash_api_key, new_api_key
from probity.serve.config import (
    POLICY_HEADER,
    ApiKeyConfig,
    AuditConfig,
    BackendConfig,
    GatewayConfig,
    LimitsConfig,
    WatermarkConfig,
    is_loopback,
    load_gateway_config,
)
from probity.serve.runner import ServerThread, serve

__all__ = [
    "CONTENT_FILTER",
    "POLICY_HEADER",
    "ApiKeyConfig",
    "AuditConfig",
    "BackendConfig",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "KeyStore",
    "LimitsConfig",
    "ServerThread",
    "WatermarkConfig",
    "create_app",
    "hash_api_key",
    "is_loopback",
    "load_gateway_config",
    "new_api_key",
    "serve",
]
