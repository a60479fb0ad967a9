"""C2PA content credentials on the gateway's answers (issue 20).

A client asks with ``X-Probity-C2PA: true`` (or the deployer sets ``content_credentials.always``);
each non-empty choice of a non-streamed answer then gets a signed C2PA manifest embedded as the
C2PA 2.x unstructured-text method specifies, made by
:func:`probity.watermark.content_credentials.attach_content_credentials` over the final text
(after the output guard, PII restoration and disclaimers), recording that the text is
AI-generated and the watermark's public parameters. Streams are not credentialed: the text has
left before the manifest could sign it, so asking for credentials on a stream is HTTP 400.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from probity.errors import ConfigError
from probity.serve.config import C2PA_HEADER, ContentCredentialsConfig
from probity.serve.errors import GatewayError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def available() -> bool:
    """Whether the ``c2pa`` extra (c2pa-python and c2pa-text) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("c2pa", "c2pa_text"))


class CredentialSigner:
    """Decides per request whether answers get credentials, and signs them.

    The identity is read once: a deployer's ``chain``/``private_key`` files at start-up (so a
    missing file stops the gateway), the home's local identity on first use."""

    def __init__(self, cfg: ContentCredentialsConfig) -> None:
        self.cfg = cfg
        self._identity: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read a configured identity now (errors surface at start-up, not on a request)."""
        if (self.cfg.always or self.cfg.chain) and not available():
            raise ConfigError(
                "content_credentials: always/chain need the c2pa libraries",
                hint="pip install 'probity[c2pa]'",
            )
        if self.cfg.enabled and self.cfg.chain and self.cfg.private_key:
            from probity.watermark.content_credentials import read_identity_files

            self._identity = read_identity_files(Path(self.cfg.chain), Path(self.cfg.private_key))

    def wanted(self, header: str | None, stream: bool) -> bool:
        """Whether this request's answers get credentials; HTTP 400 for a header value that is
        neither true nor false, for a disabled gateway asked for them, or for a stream."""
        if header is None or not header.strip():
            return self.cfg.always and not stream
        value = header.strip().lower()
        if value in _FALSE:
            return False
        if value not in _TRUE:
            raise GatewayError(400, f"{C2PA_HEADER} must be true or false, not {header!r}")
        if not self.cfg.enabled:
            raise GatewayError(400, "this gateway does not attach C2PA content credentials")
        if not available():
            raise GatewayError(
                400, "this gateway cannot attach C2PA content credentials (no c2pa libraries)"
            )
        if stream:
            raise GatewayError(
                400,
                "content credentials are not supported for streams (the text is released "
                "before it could be signed); ask without stream",
                param="stream",
            )
        return True

    def identity(self) -> Any:
        with self._lock:
            if self._identity is None:
                from probity.watermark.content_credentials import load_or_create_identity

                self._identity = load_or_create_identity()
            return self._identity

    def sign(
        self, texts: list[str], watermark: dict[str, Any] | None, model: str
    ) -> list[str | None]:
        """Each text with its manifest embedded, or None where none was attached: an emptied
        (blocked) answer has nothing to credit, and a text that already carries a manifest
        (an upstream's own) is not signed over. Blocking: call it on a worker thread."""
        import c2pa_text

        from probity.watermark.content_credentials import attach_content_credentials

        ident = self.identity()
        return [
            attach_content_credentials(
                t, watermark, identity=ident, title=f"AI-generated text ({model})"
            )
            if t and c2pa_text.find_wrapper_info(t) is None
            else None
            for t in texts
        ]
