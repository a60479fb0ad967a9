"""Guardrails: scanners for prompts and outputs, and policies that turn findings into verdicts."""

from probity.guard.base import (
    ScanContext,
    Scanner,
    create_scanner,
    register_scanner,
    scan_one,
    scanner_names,
)

__all__ = [
    "ScanContext",
    "Scanner",
    "create_scanner",
    "register_scanner",
    "scan_one",
    "scanner_names",
]
