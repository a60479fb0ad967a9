"""Curation stages.

*Map* stages look at one record at a time (``normalize``, ``scrub_pii``, ``filter_toxicity``,
``drop_protected``, ``user``): ``process(records) -> outcomes`` with one
``(record or None, reason)`` per input; ``None`` drops the record for ``reason``. They are
built inside each worker process, so they need not be picklable.

*Global* stages see the whole corpus (``dedup_exact``, ``dedup_near``, ``cap_repeats``) and
decide which records to drop with the overlap engine's deterministic deduplication: in every
cluster the record that comes first in input order is kept.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from probity.errors import InputError
from probity.text import normalize as _normalize_text

Record = dict[str, Any]
Outcome = tuple[Record | None, str]


class MapStage:
    """Base of per-record stages. ``changed`` counts records whose text the stage rewrote."""

    name = "map"

    def __init__(self, text_field: str, **options: Any) -> None:
        self.text_field = text_field
        self.options = options

    def process(self, records: Sequence[Record]) -> list[Outcome]:  # pragma: no cover
        raise NotImplementedError


class Normalize(MapStage):
    """NFKC-normalise and collapse whitespace (case kept unless ``casefold: true``); records
    left empty are dropped (reason ``empty``)."""

    name = "normalize"

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        casefold = bool(self.options.get("casefold", False))
        out: list[Outcome] = []
        for r in records:
            text = (
                _normalize_text(r[self.text_field], casefold=casefold)
                if casefold
                else " ".join(unicodedata.normalize("NFKC", r[self.text_field]).split())
            )
            if not text:
                out.append((None, "empty"))
            elif text != r[self.text_field]:
                out.append(({**r, self.text_field: text}, "changed"))
            else:
                out.append((r, ""))
        return out


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans (earliest, then longest, wins) by ``[LABEL]``."""
    spans = sorted(spans, key=lambda s: (s[0], -(s[1] - s[0])))
    parts, pos = [], 0
    for start, end, label in spans:
        if start < pos:
            continue
        parts.append(text[pos:start])
        parts.append(f"[{label}]")
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


class ScrubPII(MapStage):
    """The guard's ``pii`` scanner over each record: ``action: redact`` (default) replaces each
    entity by ``[TYPE]``; ``action: drop`` removes records that contain any."""

    name = "scrub_pii"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.guard.base import ScanContext, create_scanner

        self.action = options.pop("action", "redact")
        if self.action not in ("redact", "drop"):
            raise InputError(f"scrub_pii action must be redact or drop, got {self.action!r}")
        self.scanner = create_scanner("pii", **options)
        self.ctx = ScanContext(direction="input", policy="curate")

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        findings = self.scanner.scan_many([r[self.text_field] for r in records], self.ctx)
        out: list[Outcome] = []
        for r, fs in zip(records, findings, strict=True):
            spans = [(s.start, s.end, f.category) for f in fs for s in f.spans]
            if not spans:
                out.append((r, ""))
            elif self.action == "drop":
                kinds = sorted({f.category for f in fs})
                out.append((None, "pii:" + ",".join(kinds)))
            else:
                out.append(
                    ({**r, self.text_field: _replace_spans(r[self.text_field], spans)}, "changed")
                )
        return out


class FilterToxicity(MapStage):
    """Drop records whose toxicity score (the guard's ``toxicity`` scanner) is >= ``threshold``
    (default 0.8)."""

    name = "filter_toxicity"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.guard.base import ScanContext, create_scanner

        self.threshold = float(options.pop("threshold", 0.8))
        if not 0 < self.threshold <= 1:
            raise InputError(f"filter_toxicity threshold must be in (0, 1], got {self.threshold}")
        # the scanner reports scores >= min_score; this stage applies its own threshold
        options.setdefault("min_score", min(self.threshold, 0.5))
        self.scanner = create_scanner("toxicity", **options)
        self.ctx = ScanContext(direction="input", policy="curate")

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        findings = self.scanner.scan_many([r[self.text_field] for r in records], self.ctx)
        out: list[Outcome] = []
        for r, fs in zip(records, findings, strict=True):
            score = max((f.score for f in fs), default=0.0)
            out.append((None, f"toxicity:{score:.3f}") if score >= self.threshold else (r, ""))
        return out


class DropProtected(MapStage):
    """Drop records that overlap a protected-content index (``index: NAME`` in the Probity home):
    verbatim spans (at least the index's ``ngram`` tokens, or ``min_tokens``), near-duplicates
    (Jaccard >= the index threshold, or ``threshold``) or code clones. The reason lists what was
    found and the first protected document, e.g. ``protected:verbatim:book-7``. Blank records
    are kept (there is nothing to compare)."""

    name = "drop_protected"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.overlap import OverlapIndex

        opts = dict(options)
        name = opts.pop("index", None)
        if not name:
            raise InputError(
                "drop_protected needs 'index: NAME' (see `probity overlap index build`)"
            )
        mt = opts.pop("min_tokens", None)
        thr = opts.pop("threshold", None)
        if opts:
            raise InputError(f"unknown option(s) for drop_protected: {sorted(opts)}")
        self.min_tokens = int(mt) if mt is not None else None
        self.threshold = float(thr) if thr is not None else None
        self.index = OverlapIndex.open(str(name))

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            text = r[self.text_field]
            if not text.strip():
                out.append((r, ""))
                continue
            rep = self.index.check(text, min_tokens=self.min_tokens, threshold=self.threshold)
            if not rep.found:
                out.append((r, ""))
                continue
            kinds, first = [], ""
            if rep.verbatim:
                kinds.append("verbatim")
                first = first or rep.verbatim[0].doc
            if rep.near_duplicates:
                kinds.append("near_duplicate")
                first = first or rep.near_duplicates[0].doc
            if rep.code_clones:
                kinds.append("code_clone")
                first = first or rep.code_clones[0].doc
            reason = "protected:" + ",".join(kinds) + (f":{first}" if first else "")
            out.append((None, reason))
        return out


class UserStage(MapStage):
    """A user function ``module:function`` taking a record dict and returning the record (maybe
    changed) or ``None`` to drop it (reason ``user:<function>``)."""

    name = "user"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        ref = options.get("function", "")
        if ":" not in ref:
            raise InputError(f"user stage needs 'function: module:callable', got {ref!r}")
        mod, _, attr = ref.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise InputError(f"cannot import user stage {ref!r}: {exc}") from exc
        self.fn: Callable[[Record], Record | None] = fn
        self.label = f"user:{attr}"

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            new = self.fn(dict(r))
            if new is None:
                out.append((None, self.label))
            elif not isinstance(new, dict) or self.text_field not in new:
                raise InputError(
                    f"user stage {self.label} returned {type(new).__name__} without "
                    f"field {self.text_field!r} for record {r.get('_id')}"
                )
            else:
                out.append((new, "changed" if new != r else ""))
        return out


MAP_STAGE_CLASSES: dict[str, type[MapStage]] = {
    c.name: c for c in (Normalize, ScrubPII, FilterToxicity, DropProtected, UserStage)
}


def build_map_stage(name: str, text_field: str, options: dict[str, Any]) -> MapStage:
    """Build stage ``name``; an option the stage (or its scanner) does not take is an
    ``InputError`` naming the stage."""
    try:
        return MAP_STAGE_CLASSES[name](text_field, **dict(options))
    except TypeError as exc:
        raise InputError(f"bad option(s) for stage {name} {sorted(options)}: {exc}") from exc


def global_decisions(
    name: str, ids: Sequence[str], texts: Sequence[str], options: dict[str, Any], seed: int = 0
) -> list[tuple[str, str, str, float]]:
    """Run a global stage: ``(id, reason, representative, score)`` for each record to drop."""
    from probity.overlap import dedup_records

    opts = dict(options)
    if name == "dedup_exact":
        kw: dict[str, Any] = dict(exact=True, near=None, max_repeats=None)
    elif name == "dedup_near":
        kw = dict(
            exact=False,
            near=float(opts.pop("threshold", 0.8)),
            max_repeats=None,
            shingle=int(opts.pop("ngram", 5)),
            num_perm=int(opts.pop("num_perm", 128)),
            seed=int(opts.pop("seed", 1)),
        )
    elif name == "cap_repeats":
        kw = dict(
            exact=False,
            near=None,
            max_repeats=int(opts.pop("max_repeats", 3)),
            span_tokens=int(opts.pop("span_tokens", 50)),
        )
    else:  # pragma: no cover - validated by the job model
        raise InputError(f"unknown global stage {name!r}")
    if opts:
        raise InputError(f"unknown option(s) for {name}: {sorted(opts)}")
    res = dedup_records(list(zip(ids, texts, strict=True)), **kw)
    return [(r.id, r.reason, r.representative, r.score) for r in res.removed]
