"""Probity's errors. Each names what went wrong, with the offending value, and what to do.

The CLI turns them into one line and an exit code; the gateway into an HTTP status. Nothing
else catches broadly.
"""

from __future__ import annotations


class ProbityError(Exception):
    """Base class. ``exit_code`` is the CLI's exit status, ``http_status`` the gateway's."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}; {hint}")


class InputError(ProbityError):
    """The caller's input is wrong: empty or malformed text, file, column, parameter."""

    exit_code = 2
    http_status = 400


class ConfigError(InputError):
    """A policy or settings file is invalid; the message names the file, line and field."""


class UnknownKeyError(InputError):
    """A watermark key, index, policy or API key that does not exist."""

    http_status = 404


class ModelError(ProbityError):
    """A model cannot be loaded or answered badly (unknown name offline, broken weights)."""

    http_status = 502


class BackendError(ProbityError):
    """An upstream service failed (unreachable, timed out, returned an error)."""

    http_status = 502


class CorruptIndexError(ProbityError):
    """An on-disk index, database or log is damaged, half-written or of a foreign format."""


class TamperedError(ProbityError):
    """A hash-chained log, ledger or certificate does not verify."""


class MissingDependencyError(ProbityError):
    """An optional extra is not installed; the message says which ``pip install`` fixes it."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the optional dependency {module!r}, which is not installed",
            hint=f"run `pip install 'probity[{extra}]'`",
        )
        self.module = module
        self.extra = extra


def require(module: str, extra: str):
    """Import and return ``module``, or raise ``MissingDependencyError`` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(module, extra) from exc
