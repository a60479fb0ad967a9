"""Settings and policy files: YAML validated by pydantic, errors naming file, line and field.

Usage::

    class JobConfig(ProbityModel):
        name: str
        threshold: float = 0.5

    cfg = load_config("job.yaml", JobConfig)   # ConfigError("job.yaml:3: threshold: ...")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from probity.errors import ConfigError, InputError

M = TypeVar("M", bound=BaseModel)


class ProbityModel(BaseModel):
    """Base for configuration models: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _line_map(
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
    loader: yaml.SafeLoader,
) -> None:
    """Record the line number of every key path below ``node`` (1-based)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            try:
                key = loader.construct_object(key_node, deep=True)
            except yaml.YAMLError:
                continue
            if isinstance(key, list | dict):
                continue
            lines[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), lines, loader)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _line_map(v, (*path, i), lines, loader)


def load_yaml(
    source: str | os.PathLike[str], text: str | None = None
) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML; returns ``(data, lines)`` where ``lines`` maps a key path to its line number."""
    name = str(source)
    if text is None:
        p = Path(source)
        if not p.exists():
            raise InputError(f"file not found: {name!r}")
        try:
            text = p.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{name}: not valid UTF-8") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return {}, lines
    loader = yaml.SafeLoader("")
    data = loader.construct_document(node)
    _line_map(node, (), lines, yaml.SafeLoader(""))
    return data, lines


def validate(
    data: Any,
    model: type[M],
    *,
    source: str = "<config>",
    lines: dict[tuple[Any, ...], int] | None = None,
) -> M:
    """Validate ``data`` against ``model``; a failure is a ``ConfigError`` naming line and field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Every error, each with its line and field (hiding all but the first made users fix
        # a file one error per run).
        msgs = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            line = None
            if lines:
                for cut in range(len(loc), -1, -1):
                    if loc[:cut] in lines:
                        line = lines[loc[:cut]]
                        break
            where = f"{source}:{line}" if line else source
            field = ".".join(str(p) for p in loc) or "(top level)"
            msgs.append(f"{where}: {field}: {err.get('msg', 'invalid')}")
        raise ConfigError("; ".join(msgs)) from exc


def load_config(path: str | os.PathLike[str], model: type[M]) -> M:
    """Load a YAML file and validate it against ``model``."""
    data, lines = load_yaml(path)
    return validate(data, model, source=str(path), lines=lines)


def load_config_text(text: str, model: type[M], *, source: str = "<string>") -> M:
    """Validate YAML given as a string against ``model``."""
    data, lines = load_yaml(source, text=text)
    return validate(data, model, source=source, lines=lines)
