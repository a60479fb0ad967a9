"""Small helpers shared by the probe modules."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from probity.stats import json_ready


def clean(value: Any) -> Any:
    """JSON-ready copy: dataclasses to dicts, numpy scalars to Python, NaN/inf to ``None``."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: clean(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return json_ready(value)


def f(x: Any) -> float:
    """A plain float (from numpy or Python)."""
    return float(x)
