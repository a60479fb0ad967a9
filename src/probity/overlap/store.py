"""The persisted overlap index: one folder per name under ``probity.home.indexes_dir()``.

Layout of ``<home>/indexes/<name>/``::

    VERSION            "probity-overlap-index 1"   (foreign or missing -> CorruptIndexError)
    meta.json          kind, parameters, document count, file sizes
    docs.jsonl         one {"id", "text"} per document, in row order (for re-checks and sources)
    span_*.npy         verbatim span index (kind "text")
    lsh.npz            MinHash LSH index (kind "text")
    code_*.npy         winnowing fingerprint index (kind "code")

Crash safety: a build or an ``add`` writes a complete new folder ``.<name>.tmp-<pid>`` beside
the live one, fsyncs it, then swaps it in with ``os.replace`` (the old one is renamed aside
first and deleted after). A killed build leaves only a temp folder, which nothing ever reads
and the next build of that name removes; the live index is either the old one or the new one,
never half of each. ``meta.json`` records every file's size, checked when opening.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import CorruptIndexError, InputError, UnknownKeyError
from probity.home import indexes_dir
from probity.io import (
    Reject,
    RejectSink,
    dumps,
    text_problem,
    write_json_atomic,
    write_jsonl,
    write_text_atomic,
)

from .code import DEFAULT_K, DEFAULT_W, CodeIndex, CodeMatch
from .lsh import LSHIndex
from .minhash import MinHasher, exact_jaccard
from .spans import DEFAULT_NGRAM, SpanIndex, SpanMatch

VERSION_LINE = "probity-overlap-index 1"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
KINDS = ("text", "code")


@dataclass(frozen=True)
class NearDuplicate:
    """An indexed document whose Jaccard similarity with the query is >= the threshold."""

    doc: str
    jaccard: float
    estimated: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "jaccard": round(self.jaccard, 4),
            "estimated": round(self.estimated, 4),
        }


@dataclass(frozen=True)
class OverlapReport:
    """What a query shares with an index: verbatim spans, near-duplicates, code clones."""

    index: str
    kind: str
    chars: int
    verbatim: tuple[SpanMatch, ...] = ()
    near_duplicates: tuple[NearDuplicate, ...] = ()
    code_clones: tuple[CodeMatch, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.verbatim or self.near_duplicates or self.code_clones)

    @property
    def verbatim_chars(self) -> int:
        """Characters of the query inside verbatim spans (overlaps counted once)."""
        cover = np.zeros(self.chars + 1, dtype=bool)
        for s in self.verbatim:
            cover[s.start : s.end] = True
        return int(cover.sum())

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "chars": self.chars,
            "found": self.found,
            "verbatim_chars": self.verbatim_chars,
            "verbatim": [s.to_dict() for s in self.verbatim],
            "near_duplicates": [d.to_dict() for d in self.near_duplicates],
            "code_clones": [c.to_dict() for c in self.code_clones],
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class IndexStats:
    name: str
    kind: str
    documents: int
    bytes_on_disk: int
    params: dict[str, Any]
    created: str
    updated: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise InputError(
            f"invalid index name {name!r}",
            hint="use letters, digits, '.', '_' or '-' (at most 100 characters)",
        )
    return name


def index_path(name: str) -> Path:
    return indexes_dir() / _check_name(name)


def list_indexes() -> list[str]:
    """Names of the indexes in the Probity home (temp folders of unfinished builds excluded)."""
    root = indexes_dir()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


class OverlapIndex:
    """A named, persisted bundle of the overlap structures for one protected corpus.

    ``kind="text"``: a verbatim :class:`SpanIndex` (``ngram`` tokens) and a MinHash
    :class:`LSHIndex` (``threshold`` Jaccard for near-duplicates). ``kind="code"``: a
    :class:`CodeIndex` (``k``, ``w``, ``language``, ``tokens``: ``syntax`` trees or ``lexical``) plus the same verbatim span index.
    Build with :meth:`build`, open with :meth:`open`, query with :meth:`check`.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        params: dict[str, Any],
        ids: list[str],
        texts: list[str],
        spans: SpanIndex,
        lsh: LSHIndex | None,
        code: CodeIndex | None,
        meta: dict[str, Any],
    ) -> None:
        self.name = name
        self.kind = kind
        self.params = params
        self.ids = ids
        self.texts = texts
        self.spans = spans
        self.lsh = lsh
        self.code = code
        self.meta = meta
        self._hasher = MinHasher(params["num_perm"], params["shingle"], params["seed"])

    # -- construction --------------------------------------------------------------------------

    @staticmethod
    def default_params(kind: str = "text", **overrides: Any) -> dict[str, Any]:
        if kind not in KINDS:
            raise InputError(f"unknown index kind {kind!r}; expected one of {KINDS}")
        params: dict[str, Any] = {
            "ngram": DEFAULT_NGRAM if kind == "text" else 30,
            "threshold": 0.8,
            "num_perm": 128,
            "shingle": 5,
            "seed": 1,
            "k": DEFAULT_K,
            "w": DEFAULT_W,
            "language": "python",
            "tokens": "syntax",
            "code_min_similarity": 0.5,
            "code_min_span_tokens": 50,
        }
        for key, value in overrides.items():
            if value is None:
                continue
            if key not in params:
                raise InputError(f"unknown index parameter {key!r}; known: {sorted(params)}")
            params[key] = value
        if int(params["ngram"]) < 2:
            raise InputError(f"ngram must be >= 2 tokens, got {params['ngram']}")
        if not 0.0 < float(params["threshold"]) < 1.0:
            raise InputError(f"threshold must be in (0, 1), got {params['threshold']}")
        return params

    @classmethod
    def build(
        cls,
        name: str,
        records: Iterable[tuple[str, str]],
        *,
        kind: str = "text",
        overwrite: bool = False,
        **params: Any,
    ) -> OverlapIndex:
        """Build index ``name`` from ``(id, text)`` records and persist it atomically."""
        path = index_path(name)
        if path.exists() and not overwrite:
            raise InputError(
                f"index {name!r} already exists",
                hint="use `probity overlap index add` or build with --force",
            )
        p = cls.default_params(kind, **params)
        ids, texts = _unique_records(records, set())
        if not ids:
            raise InputError("no documents to index (the input is empty)")
        now = _now()
        return cls._write(name, kind, p, ids, texts, created=now)

    def add(self, records: Iterable[tuple[str, str]]) -> int:
        """Add ``(id, text)`` records; ids already in the index are skipped (so rerunning an
        ``add`` is harmless), a repeated id within ``records`` is an ``InputError``. Rewrites
        the bundle atomically; returns how many were added."""
        ids, texts = _unique_records(records, set(self.ids), skip_seen=True)
        if not ids:
            return 0
        new = self._write(
            self.name,
            self.kind,
            self.params,
            self.ids + ids,
            self.texts + texts,
            created=self.meta.get("created", _now()),
        )
        self.__dict__.update(new.__dict__)
        return len(ids)

    @classmethod
    def _write(
        cls,
        name: str,
        kind: str,
        p: dict[str, Any],
        ids: list[str],
        texts: list[str],
        *,
        created: str,
    ) -> OverlapIndex:
        final = index_path(name)
        root = final.parent
        _recover(final)
        for stale in root.glob(f".{name}.tmp-*"):  # leftovers of killed builds
            shutil.rmtree(stale, ignore_errors=True)
        tmp = root / f".{name}.tmp-{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            pairs = list(zip(ids, texts, strict=True))
            spans = SpanIndex.build(pairs, n=int(p["ngram"]))
            spans.save(tmp)
            lsh = code = None
            if kind == "text":
                hasher = MinHasher(p["num_perm"], p["shingle"], p["seed"])
                lsh = LSHIndex(float(p["threshold"]), int(p["num_perm"]), weights=(0.1, 0.9))
                lsh.insert(np.arange(len(ids)), hasher.signatures(texts))
                lsh.save(tmp / "lsh.npz")
            else:
                code = CodeIndex.build(
                    pairs, int(p["k"]), int(p["w"]), p["language"], p.get("tokens", "lexical")
                )
                code.save(tmp)
            write_jsonl(tmp / "docs.jsonl", ({"id": i, "text": t} for i, t in pairs))
            files = {f.name: f.stat().st_size for f in sorted(tmp.iterdir())}
            meta = {
                "format": VERSION_LINE,
                "name": name,
                "kind": kind,
                "params": p,
                "documents": len(ids),
                "created": created,
                "updated": _now(),
                "files": files,
            }
            write_json_atomic(tmp / "meta.json", meta)
            write_text_atomic(tmp / "VERSION", VERSION_LINE + "\n")
            _fsync_dir(tmp)
            _swap_in(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls.open(name)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, name: str) -> OverlapIndex:
        """Open index ``name``; missing -> ``UnknownKeyError``, damaged -> ``CorruptIndexError``."""
        path = index_path(name)
        _recover(path)
        if not path.is_dir():
            known = ", ".join(list_indexes()) or "none"
            raise UnknownKeyError(
                f"no overlap index named {name!r}",
                hint=f"build it with `probity overlap index build`; known: {known}",
            )
        version = path / "VERSION"
        try:
            line = version.read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CorruptIndexError(
                f"{str(path)!r} is not a Probity overlap index (no VERSION)",
                hint=f"drop it with `probity overlap index drop --name {name}` and rebuild",
            ) from exc
        if line != VERSION_LINE:
            raise CorruptIndexError(
                f"{str(path)!r} has a foreign or newer format {line[:60]!r}",
                hint="rebuild the index with this version of Probity",
            )
        try:
            meta = json.loads((path / "meta.json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(
                f"index {name!r}: meta.json is unreadable: {exc}", hint="rebuild the index"
            ) from exc
        for fname, size in meta.get("files", {}).items():
            f = path / fname
            if not f.exists() or f.stat().st_size != size:
                raise CorruptIndexError(
                    f"index {name!r}: file {fname} is missing or has the wrong size",
                    hint="rebuild the index",
                )
        ids: list[str] = []
        texts: list[str] = []
        try:
            with open(path / "docs.jsonl", encoding="utf-8") as fh:
                for line_ in fh:
                    rec = json.loads(line_)
                    ids.append(rec["id"])
                    texts.append(rec["text"])
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptIndexError(
                f"index {name!r}: docs.jsonl is unreadable: {exc}", hint="rebuild the index"
            ) from exc
        if len(ids) != meta.get("documents"):
            raise CorruptIndexError(
                f"index {name!r}: {len(ids)} documents, meta says {meta.get('documents')}",
                hint="rebuild the index",
            )
        p = meta["params"]
        kind = meta["kind"]
        spans = SpanIndex.load(path, int(p["ngram"]), ids)
        lsh = LSHIndex.load(path / "lsh.npz") if kind == "text" else None
        code = (
            CodeIndex.load(
                path,
                ids,
                k=int(p["k"]),
                w=int(p["w"]),
                language=p["language"],
                tokens=p.get("tokens", "lexical"),  # indexes built before syntax tokens
            )
            if kind == "code"
            else None
        )
        return cls(name, kind, p, ids, texts, spans, lsh, code, meta)

    @staticmethod
    def drop(name: str) -> bool:
        """Delete index ``name`` (and leftovers of unfinished builds); False if it did not exist."""
        path = index_path(name)
        for stale in path.parent.glob(f".{name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if not path.exists():
            return False
        aside = path.parent / f".{name}.drop-{os.getpid()}"
        os.replace(path, aside)
        shutil.rmtree(aside, ignore_errors=True)
        return True

    def stats(self) -> IndexStats:
        path = index_path(self.name)
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        return IndexStats(
            self.name,
            self.kind,
            len(self.ids),
            size,
            dict(self.params),
            self.meta.get("created", ""),
            self.meta.get("updated", ""),
            str(path),
        )

    # -- querying ------------------------------------------------------------------------------

    def check(
        self,
        text: str,
        *,
        min_tokens: int | None = None,
        threshold: float | None = None,
        code_threshold: float | None = None,
        code_min_tokens: int | None = None,
    ) -> OverlapReport:
        """Everything ``text`` shares with the index (see :class:`OverlapReport`).

        ``min_tokens`` (at least the index's ``ngram``), ``threshold`` (near-duplicate
        Jaccard), ``code_threshold`` and ``code_min_tokens`` override the index's settings for
        this query."""
        return self.check_many(
            [text],
            min_tokens=min_tokens,
            threshold=threshold,
            code_threshold=code_threshold,
            code_min_tokens=code_min_tokens,
        )[0]

    def check_many(
        self,
        texts: Sequence[str],
        *,
        min_tokens: int | None = None,
        threshold: float | None = None,
        code_threshold: float | None = None,
        code_min_tokens: int | None = None,
    ) -> list[OverlapReport]:
        """:meth:`check` for many texts: the MinHash signatures are computed in one batch (the
        curation stage ``drop_protected`` checks a chunk at a time)."""
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise InputError("the text to check is empty")
        sigs = self._hasher.signatures(list(texts)) if self.lsh is not None and texts else None
        return [
            self._check_one(
                text,
                None if sigs is None else sigs[i],
                min_tokens=min_tokens,
                threshold=threshold,
                code_threshold=code_threshold,
                code_min_tokens=code_min_tokens,
            )
            for i, text in enumerate(texts)
        ]

    def _check_one(
        self,
        text: str,
        sig: np.ndarray | None,
        *,
        min_tokens: int | None,
        threshold: float | None,
        code_threshold: float | None,
        code_min_tokens: int | None,
    ) -> OverlapReport:
        verbatim = tuple(self.spans.query(text, min_tokens=min_tokens))
        near: list[NearDuplicate] = []
        clones: tuple[CodeMatch, ...] = ()
        thr = float(threshold if threshold is not None else self.params["threshold"])
        if self.lsh is not None and sig is not None:
            q = None  # the query's shingles, only when there is a candidate
            for row, est in self.lsh.query_scored(sig):
                if q is None:
                    q = self._hasher.shingles(text)
                jac = exact_jaccard(q, self._hasher.shingles(self.texts[row]))
                if jac >= thr:
                    near.append(NearDuplicate(self.ids[row], jac, est))
            near.sort(key=lambda d: (-d.jaccard, d.doc))
        if self.code is not None:
            clones = tuple(
                self.code.query(
                    text,
                    min_similarity=float(
                        code_threshold
                        if code_threshold is not None
                        else self.params["code_min_similarity"]
                    ),
                    min_span_tokens=int(
                        code_min_tokens
                        if code_min_tokens is not None
                        else self.params.get("code_min_span_tokens", 50)
                    ),
                )
            )
        return OverlapReport(
            self.name,
            self.kind,
            len(text),
            verbatim,
            tuple(near),
            clones,
            {"ngram": self.params["ngram"], "threshold": thr},
        )

    def text_of(self, doc_id: str) -> str:
        try:
            return self.texts[self.ids.index(doc_id)]
        except ValueError as exc:
            raise UnknownKeyError(f"no document {doc_id!r} in index {self.name!r}") from exc


def _unique_records(
    records: Iterable[tuple[str, str]], seen: set[str], *, skip_seen: bool = False
) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    texts: list[str] = []
    skip = set(seen) if skip_seen else set()
    for doc_id, text in records:
        doc_id = str(doc_id)
        if doc_id in skip:
            continue
        if doc_id in seen:
            raise InputError(
                f"duplicate document id {doc_id!r}", hint="ids must be unique within an index"
            )
        seen.add(doc_id)
        ids.append(doc_id)
        texts.append(text)
    return ids, texts


def iter_records(
    path: str | os.PathLike[str],
    field: str = "text",
    id_field: str = "id",
    *,
    rejects: RejectSink | None = None,
) -> Iterator[tuple[str, str]]:
    """``(id, text)`` from a JSONL/Parquet/text file; a missing id becomes the line number.

    With ``rejects``, a JSONL line that cannot be indexed (invalid JSON or UTF-8, a lone
    surrogate, no usable text field) is recorded there with its reason instead of stopping
    the build."""
    from probity.io import iter_jsonl, iter_texts, read_text

    p = Path(path)
    if p.is_dir():  # a folder of files (e.g. source code): one record per file
        for f in sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith(".")):
            yield str(f.relative_to(p)), read_text(f)
        return
    if ".jsonl" in "".join(p.suffixes).lower():
        for lineno, obj in iter_jsonl(p, rejects=rejects):
            why = text_problem(obj, field)
            if why:
                if rejects is None:
                    raise InputError(f"{p}:{lineno}: {why}")
                rejects.add(Reject(str(p), lineno, why, dumps(obj)[:2000]))
                continue
            yield str(obj.get(id_field, lineno)), obj[field]
        return
    for n, text in iter_texts(p, field, rejects=rejects):
        yield (p.name if n == 1 and p.suffix in (".txt", ".md", ".py") else str(n)), text


def _recover(final: Path) -> None:
    """Finish a swap killed between its two renames: put the old index back in place."""
    if final.exists():
        return
    olds = sorted(final.parent.glob(f".{final.name}.old-*"))
    if olds and (olds[-1] / "VERSION").exists():
        os.replace(olds[-1], final)


def _swap_in(tmp: Path, final: Path) -> None:
    aside = None
    if final.exists():
        aside = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, aside)
    os.replace(tmp, final)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
