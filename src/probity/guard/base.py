"""The scanner protocol and registry that every guard scanner implements.

A scanner is batch-first: ``scan_many(texts, context)`` returns one list of
:class:`~probity.types.Finding` per text. Scanners are registered by name with
:func:`register_scanner`; modules in ``probity.guard.scanners`` are imported on first use, so a
new scanner (``protected`` from the overlap engine, ``citations`` from the citation engine) is
one new file there.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from probity.errors import UnknownKeyError
from probity.types import Finding

Direction = Literal["input", "output"]


@dataclass(frozen=True)
class ScanContext:
    """What a scanner may know besides the text.

    ``direction`` is ``input`` (a prompt) or ``output`` (a model's answer); ``prompt`` is the
    prompt that produced an output; ``mode`` is the policy's ``factual`` or ``creative``;
    ``metadata`` carries anything else (use case, user id) a custom scanner wants.
    """

    direction: Direction = "input"
    prompt: str | None = None
    policy: str = ""
    mode: str = "factual"
    metadata: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Scanner(Protocol):
    """Finds one kind of unwanted content. ``name`` is the registry name, ``version`` goes into
    the audit log so a decision can be traced to the scanner that made it."""

    name: str
    version: str

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]: ...


def scan_one(scanner: Scanner, text: str, context: ScanContext | None = None) -> list[Finding]:
    """Scan a single text with a batch-first scanner."""
    return scanner.scan_many([text], context)[0]


ScannerFactory = Callable[..., Scanner]
_REGISTRY: dict[str, ScannerFactory] = {}
_loaded = False


def register_scanner(name: str) -> Callable[[ScannerFactory], ScannerFactory]:
    """Class decorator: make a scanner available to policies under ``name``."""

    def deco(factory: ScannerFactory) -> ScannerFactory:
        _REGISTRY[name] = factory
        return factory

    return deco


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    pkg = Path(__file__).with_name("scanners")
    for info in pkgutil.iter_modules([str(pkg)]):
        if not info.name.startswith("_"):
            importlib.import_module(f"probity.guard.scanners.{info.name}")


def scanner_names() -> list[str]:
    """Names of every registered scanner."""
    _load_builtin()
    return sorted(_REGISTRY)


def create_scanner(name: str, **options: Any) -> Scanner:
    """Build the scanner registered as ``name`` with ``options`` (from a policy)."""
    _load_builtin()
    if name not in _REGISTRY:
        raise UnknownKeyError(
            f"unknown scanner {name!r}",
            hint=f"known scanners: {', '.join(sorted(_REGISTRY)) or 'none'}",
        )
    return _REGISTRY[name](**options)
