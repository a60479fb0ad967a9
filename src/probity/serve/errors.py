"""Every error the gateway answers, in OpenAI's shape, with the request's ``X-Request-Id``.

``{"error": {"message", "type", "param", "code"}}``: the shape the official SDKs parse into
``openai.APIStatusError`` subclasses. Handlers here turn FastAPI's own errors (unknown route,
wrong method, unparseable body, validation) into that shape too, and keep internals (upstream
URLs, file paths, tracebacks) out of what clients see: those go to the server log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from probity.errors import ProbityError

log = logging.getLogger("probity.serve")


class GatewayError(Exception):
    """An error answered in OpenAI's shape: ``{"error": {"message", "type", "code", ...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        type_: str = "invalid_request_error",
        param: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type_
        self.param = param
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        err.update(self.extra)
        return {"error": err}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers or None)


class UpstreamError(ProbityError):
    """The upstream failed; ``http_status`` 502 (bad answer) or 504 (too slow). The message is
    safe for clients (no URL); ``detail`` has the rest for the server log."""

    http_status = 502

    def __init__(
        self, message: str, *, status: int = 502, code: str = "upstream_error", detail: str = ""
    ) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = code
        self.detail = detail
        self.headers: dict[str, str] = {}  # passed on to the client (Retry-After)


def from_probity_error(exc: ProbityError) -> GatewayError:
    """The client-facing form of a library error."""
    status = exc.http_status
    if isinstance(exc, UpstreamError):
        if exc.detail:
            log.warning("upstream: %s (%s)", exc, exc.detail)
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return GatewayError(status, str(exc), code=exc.code, type_=kind, headers=exc.headers)
    if status >= 500:
        # Library messages may name files or hosts: the log keeps them, the client gets a class.
        log.error("%s: %s", type(exc).__name__, exc)
        code = "upstream_error" if status in (502, 504) else "server_error"
        return GatewayError(
            status,
            f"{type(exc).__name__}: the server could not complete the "
            "request (details in the server log)",
            code=code,
            type_="server_error",
        )
    return GatewayError(status, str(exc))


_STATUS_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "request_too_large",
}


def install(app: FastAPI) -> None:
    """Register the OpenAI-shaped handlers on ``app``."""

    @app.exception_handler(GatewayError)
    async def _gw_error(request: Request, exc: GatewayError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(ProbityError)
    async def _probity_error(request: Request, exc: ProbityError) -> JSONResponse:
        return from_probity_error(exc).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 404:
            msg = f"unknown URL: {request.method} {request.url.path}"
        elif status == 405:
            msg = f"method {request.method} is not allowed on {request.url.path}"
        elif status == 400:
            # FastAPI's "There was an error parsing the body": bad UTF-8, nesting too deep...
            msg = "the request body is not valid JSON (UTF-8, nested less than 1000 levels)"
        else:
            msg = str(exc.detail)
        kind = "invalid_request_error" if status < 500 else "server_error"
        err = GatewayError(status, msg, code=_STATUS_CODES.get(status), type_=kind)
        if exc.headers:
            err.headers = dict(exc.headers)
        return err.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return GatewayError(400, "the request body is not valid JSON").response()
        loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return GatewayError(
            400,
            f"invalid request: {loc or 'body'}: {first.get('msg', 'invalid')}",
            param=loc or None,
        ).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return GatewayError(
            500, f"internal error ({type(exc).__name__}); see the server log", type_="server_error"
        ).response()
