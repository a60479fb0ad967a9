"""A curation job: inputs, ordered stages and an output, from one YAML file.

```yaml
inputs: ["data/*.jsonl.gz", "more.parquet"]
text_field: text
id_field: id            # optional; default ids are "<file name>:<line or row>"
stages:
  - normalize
  - {name: scrub_pii, action: redact}
  - {name: filter_toxicity, threshold: 0.8}
  - {name: drop_protected, index: licensed-books}
  - dedup_exact
  - {name: dedup_near, threshold: 0.8}
  - {name: dedup_substring, min_bytes: 100, min_doc_bytes: 50}
  - {name: cap_repeats, max_repeats: 3, span_tokens: 50}
  - {name: user, function: mypkg.stages:drop_short}
output: {path: out/, format: parquet, shard_size: 50000}
options: {executor: local, workers: 2, chunk_size: 2000, sidecar_text: false}
```
"""

from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from probity.config import ProbityModel, load_config
from probity.errors import InputError

MAP_STAGES = (
    "normalize",
    "fix_text",
    "filter_url",
    "filter_language",
    "filter_quality",
    "scrub_pii",
    "filter_toxicity",
    "drop_protected",
    "user",
)
GLOBAL_STAGES = ("dedup_exact", "dedup_near", "dedup_substring", "cap_repeats")
STAGES = MAP_STAGES + GLOBAL_STAGES


class StageConfig(ProbityModel):
    """One stage: its ``name`` and options (checked by the stage itself)."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in STAGES:
            raise ValueError(f"unknown stage {v!r}; known stages: {', '.join(STAGES)}")
        return v


class OutputConfig(ProbityModel):
    path: str
    format: Literal["jsonl", "parquet"] = "jsonl"
    shard_size: int = Field(50_000, ge=1)


class Options(ProbityModel):
    executor: Literal["local", "ray"] = "local"
    workers: int = Field(1, ge=1, le=256)
    chunk_size: int = Field(2000, ge=1)
    seed: int = 0
    sidecar_text: bool = False
    ray_address: str | None = None
    #: records whose text is larger (UTF-8 bytes) are rejected with reason ``too_large``
    max_record_bytes: int | None = Field(10_000_000, ge=1)
    #: ``protect_first`` (default) runs ``drop_protected`` before an earlier-listed
    #: ``scrub_pii`` of the same map run, so redaction cannot break verbatim runs of protected
    #: text; ``as_written`` keeps the listed order
    stage_order: Literal["protect_first", "as_written"] = "protect_first"
    #: ``sharded`` (default): dedup_near runs as tasks over shards on disk, the driver holds
    #: no records; ``driver``: the survivors are gathered on the driver (small corpora)
    near_dedup: Literal["sharded", "driver"] = "sharded"


class JobConfig(ProbityModel):
    inputs: list[str]
    text_field: str = "text"
    id_field: str | None = None
    stages: list[StageConfig]
    output: OutputConfig
    options: Options = Options()

    @field_validator("stages", mode="before")
    @classmethod
    def _expand(cls, v: Any) -> Any:
        out = []
        for item in v or []:
            if isinstance(item, str):
                out.append({"name": item})
            elif isinstance(item, dict) and "name" in item and "options" not in item:
                opts = {k: val for k, val in item.items() if k != "name"}
                out.append({"name": item["name"], "options": opts})
            else:
                out.append(item)
        return out

    @model_validator(mode="before")
    @classmethod
    def _order(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
            return data
        options = data.get("options") or {}
        if isinstance(options, dict) and options.get("stage_order", "protect_first") == (
            "protect_first"
        ):
            return {**data, "stages": protect_first(data["stages"])}
        return data

    @field_validator("inputs")
    @classmethod
    def _some(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("a job needs at least one input")
        return v

    def fingerprint(self) -> str:
        """A digest of everything that determines the output (executor and workers excluded)."""
        data = self.model_dump()
        data["options"] = {
            k: v
            for k, v in data["options"].items()
            if k not in ("executor", "workers", "ray_address")
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _stage_name(item: Any) -> str:
    if isinstance(item, str):
        return item
    return str(item.get("name", "")) if isinstance(item, dict) else str(getattr(item, "name", ""))


def protect_first(stages: list[Any]) -> list[Any]:
    """Move each ``drop_protected`` before the earliest ``scrub_pii`` listed before it with no
    global stage in between (redaction rewrites text, e.g. dates, inside protected quotes and
    breaks the verbatim runs the check looks for). Other stages keep their order. Works on
    stage entries as written in a job (names or mappings)."""
    out: list[Any] = []
    for st in stages:
        if _stage_name(st) == "drop_protected":
            at = len(out)
            while at > 0 and _stage_name(out[at - 1]) in MAP_STAGES:
                at -= 1
            pii = [i for i in range(at, len(out)) if _stage_name(out[i]) == "scrub_pii"]
            if pii:
                out.insert(pii[0], st)
                continue
        out.append(st)
    return out


def load_job(path: str | Path) -> tuple[JobConfig, Path]:
    """Load a job file; relative paths in it are relative to the file's folder."""
    p = Path(path)
    return load_config(p, JobConfig), p.resolve().parent


def resolve_inputs(cfg: JobConfig, base: Path) -> list[Path]:
    """Expand the input globs (sorted, de-duplicated); no match is an error naming the pattern."""
    files: list[Path] = []
    for pattern in cfg.inputs:
        pat = pattern if Path(pattern).is_absolute() else str(base / pattern)
        matches = sorted(Path(m) for m in glob.glob(pat, recursive=True))
        if not matches:
            raise InputError(f"input pattern {pattern!r} matches no file")
        for m in matches:
            if m not in files:
                files.append(m)
    return files
