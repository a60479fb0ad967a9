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


def install_hint(extra: str) -> str:
    """How to install an optional extra. Never from the package index: the name ``probity``
    there belongs to an unrelated project, so the hint installs from a clone of this one."""
    return (
        f"install the '{extra}' extra from a clone of the Probity repository: "
        f"pip install -e '.[{extra}]' (not from the package index, where 'probity' is another "
        "project)"
    )


class MissingDependencyError(ProbityError):
    """An optional extra is not installed; the message says how to install it (from a clone)."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the optional dependency {module!r}, which is not installed",
            hint=install_hint(extra),
        )
        self.module = module
        self.extra = extra


#: Top-level module of an optional dependency -> the extra that installs it.
OPTIONAL_MODULES: dict[str, str] = {
    "torch": "hf",
    "transformers": "hf",
    "tokenizers": "hf",
    "safetensors": "hf",
    "fastapi": "server",
    "uvicorn": "server",
    "ray": "ray",
    "opacus": "privacy",
    "openai": "server",
}


def missing_dependency(exc: ImportError) -> MissingDependencyError | None:
    """The :class:`MissingDependencyError` an ``ImportError`` of an optional module means,
    or ``None`` when it is not one (a real bug stays a bug)."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    extra = OPTIONAL_MODULES.get(name)
    return MissingDependencyError(name, extra) if extra else None


def require(module: str, extra: str):
    """Import and return ``module``, or raise ``MissingDependencyError`` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(module, extra) from exc
