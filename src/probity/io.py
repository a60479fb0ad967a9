"""Streaming readers and writers (JSONL, JSONL.gz/.zst, Parquet, CSV), atomic writes and
resumable manifests.

Every file Probity writes goes through :func:`atomic_write` (temp file in the same folder,
fsync, rename), so a crash never leaves a half-written output in place of a good one. Files get
the permissions the user's umask gives a new file (as ``open()`` would), unless a caller asks
for a ``mode`` (secrets: ``0o600``).
"""

from __future__ import annotations

import contextlib
import gzip
import io as _io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from probity.errors import InputError

# --- atomic writes -------------------------------------------------------------------------


def _umask_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask (0o666 & ~umask)."""
    # os.umask can only be read by setting it; set it back at once.
    current = os.umask(0o022)
    os.umask(current)
    return 0o666 & ~current


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "w",
    encoding: str | None = "utf-8",
    *,
    permissions: int | None = None,
) -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; on success fsync and rename it over ``path``.

    The file gets ``permissions`` when given (``0o600`` for secrets, set before any byte is
    written), else what the umask gives a new file. On an exception the temp file is removed
    and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    binary = "b" in mode
    try:
        # mkstemp always creates 0600; a report or shard must be readable as the umask says.
        os.fchmod(fd, _umask_mode() if permissions is None else permissions)
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, permissions: int | None = None
) -> None:
    """Write ``text`` to ``path`` atomically (``permissions``: see :func:`atomic_write`)."""
    with atomic_write(path, permissions=permissions) as fh:
        fh.write(text)


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, permissions: int | None = None
) -> None:
    """Write ``data`` to ``path`` atomically (``permissions``: see :func:`atomic_write`)."""
    with atomic_write(path, "wb", permissions=permissions) as fh:
        fh.write(data)


def write_json_atomic(
    path: str | os.PathLike[str],
    data: Any,
    *,
    indent: int | None = 2,
    permissions: int | None = None,
) -> None:
    """Write ``data`` as JSON to ``path`` atomically (``permissions``: see :func:`atomic_write`)."""
    write_text_atomic(
        path,
        json.dumps(data, indent=indent, ensure_ascii=False, default=_default),
        permissions=permissions,
    )


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(data: Any, *, indent: int | None = None) -> str:
    """JSON-encode ``data`` (dataclasses with ``to_dict``, numpy values and paths included)."""
    return json.dumps(data, indent=indent, ensure_ascii=False, default=_default)


# --- reading -------------------------------------------------------------------------------


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {str(p)!r}")
    if p.is_dir():
        raise InputError(f"expected a file but {str(p)!r} is a directory")
    return p


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open a file for reading bytes, decompressing ``.gz`` and ``.zst`` transparently."""
    p = _existing(path)
    name = p.name.lower()
    if name.endswith(".gz"):
        return gzip.open(p, "rb")  # type: ignore[return-value]
    if name.endswith(".zst") or name.endswith(".zstd"):
        import zstandard

        # the reader owns the file and closes it (closefd=True)
        reader = zstandard.ZstdDecompressor().stream_reader(open(p, "rb"), closefd=True)  # noqa: SIM115
        return _io.BufferedReader(reader)  # type: ignore[arg-type]
    return open(p, "rb")


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file (compressed or not); invalid UTF-8 is a clear ``InputError``."""
    with open_binary(path) as fh:
        data = fh.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 at byte {exc.start}") from exc


@dataclass
class Reject:
    """A line that could not be read, with its 1-based line number and the reason."""

    source: str
    line: int
    reason: str
    raw: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "reason": self.reason, "raw": self.raw}


@dataclass
class RejectSink:
    """Collects unreadable records; :meth:`write` saves them as JSONL (atomically)."""

    rejects: list[Reject] = field(default_factory=list)

    def add(self, reject: Reject) -> None:
        self.rejects.append(reject)

    def __len__(self) -> int:
        return len(self.rejects)

    def write(self, path: str | os.PathLike[str]) -> None:
        write_jsonl(path, (r.to_dict() for r in self.rejects))


def iter_jsonl(
    path: str | os.PathLike[str], *, rejects: RejectSink | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each JSON object line of a JSONL file.

    Blank lines are skipped. A line that is not valid UTF-8, not valid JSON, or not a JSON
    object goes to ``rejects`` with the reason when given; otherwise it raises ``InputError``
    naming the file and line. Streams: memory does not grow with the file.
    """
    src = str(path)
    with open_binary(path) as raw:
        for lineno, line in enumerate(raw, 1):
            if not line.strip():
                continue
            try:
                # a UTF-8 byte-order mark (Windows editors write one) is not part of the record
                text = line.decode("utf-8-sig" if lineno == 1 else "utf-8")
                obj = json.loads(text)
                if not isinstance(obj, dict):
                    raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
                if ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(obj):
                    raise UnicodeError("lone surrogate")
            except (UnicodeError, ValueError) as exc:
                if isinstance(exc, UnicodeDecodeError):
                    reason = "invalid UTF-8"
                elif isinstance(exc, UnicodeError):
                    reason = (
                        "lone surrogate: a JSON \\ud800-\\udfff escape that is not valid Unicode"
                    )
                else:
                    reason = f"invalid JSON: {exc}"
                if rejects is None:
                    raise InputError(f"{src}:{lineno}: {reason}") from exc
                rejects.add(Reject(src, lineno, reason, line[:2000].decode("utf-8", "replace")))
                continue
            yield lineno, obj


def text_problem(rec: dict[str, Any], text_field: str) -> str:
    """Why ``rec`` has no usable text (``""`` when it has): missing field, null, or not a string."""
    if text_field not in rec:
        return f"no text field {text_field!r}: fields are {sorted(rec)[:10]}"
    text = rec[text_field]
    if text is None:
        return f"text field {text_field!r} is null"
    if not isinstance(text, str):
        return f"field {text_field!r} is {type(text).__name__}, not text"
    return ""


def _has_lone_surrogate(obj: Any) -> bool:
    """True when a string in ``obj`` (keys included) holds a lone UTF-16 surrogate, which a
    JSON ``\\ud800`` escape decodes to and which UTF-8 cannot encode."""
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Any]) -> int:
    """Write records as JSONL atomically; returns the number written.

    A record holding a lone surrogate (e.g. a reject's raw line) is written with ASCII escapes,
    so it round-trips instead of failing the whole file."""
    n = 0
    with atomic_write(path) as fh:
        for rec in records:
            try:  # the text layer encodes the whole string before writing any of it
                fh.write(dumps(rec))
            except UnicodeEncodeError:
                fh.write(json.dumps(rec, ensure_ascii=True, default=_default))
            fh.write("\n")
            n += 1
    return n


def iter_texts(
    path: str | os.PathLike[str], field: str = "text", *, rejects: RejectSink | None = None
) -> Iterator[tuple[int, str]]:
    """Yield ``(record_number, text)`` from JSONL (``field``), Parquet (column) or plain text.

    For ``.txt``/``.md`` files the whole file is one record.
    """
    p = _existing(path)
    suffixes = "".join(p.suffixes).lower()
    if ".parquet" in suffixes:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(p)
        if field not in pf.schema_arrow.names:
            raise InputError(f"{p}: no column {field!r}; columns are {pf.schema_arrow.names}")
        i = 0
        for batch in pf.iter_batches(columns=[field]):
            for value in batch.column(0).to_pylist():
                i += 1
                yield i, "" if value is None else str(value)
        return
    if ".jsonl" in suffixes or ".ndjson" in suffixes:
        for lineno, obj in iter_jsonl(p, rejects=rejects):
            if field not in obj:
                msg = f"no field {field!r} (fields: {sorted(obj)[:10]})"
                if rejects is None:
                    raise InputError(f"{p}:{lineno}: {msg}")
                rejects.add(Reject(str(p), lineno, msg))
                continue
            yield lineno, str(obj[field])
        return
    yield 1, read_text(p)


def read_table(path: str | os.PathLike[str]):
    """Read a CSV, TSV, Parquet or JSONL table into a pandas DataFrame with clear errors."""
    import pandas as pd

    p = _existing(path)
    suffixes = "".join(p.suffixes).lower()
    try:
        if ".parquet" in suffixes:
            return pd.read_parquet(p)
        if ".jsonl" in suffixes or ".ndjson" in suffixes:
            return pd.DataFrame([obj for _, obj in iter_jsonl(p)])
        if ".tsv" in suffixes:
            return pd.read_csv(p, sep="\t")
        return pd.read_csv(p)
    except InputError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for malformed files
        raise InputError(f"cannot read table {str(p)!r}: {exc}") from exc


# --- resumable jobs ------------------------------------------------------------------------


class Manifest:
    """A small JSON record of a long job's finished units, saved atomically after each one.

    A job checks :meth:`is_done` before doing a unit and calls :meth:`mark_done` after its
    output is safely written; after a crash or Ctrl-C the rerun skips what is done. The
    manifest stores a ``fingerprint`` of the job's settings: resuming with different settings
    is refused instead of mixing outputs.
    """

    def __init__(self, path: str | os.PathLike[str], fingerprint: str) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.units: dict[str, Any] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(
                    f"manifest {str(self.path)!r} is unreadable: {exc}",
                    hint="delete it to start the job again",
                ) from exc
            if data.get("fingerprint") != fingerprint:
                raise InputError(
                    f"manifest {str(self.path)!r} belongs to a job with other settings",
                    hint="use another output location or delete the manifest to start over",
                )
            self.units = dict(data.get("units", {}))

    def is_done(self, unit: str) -> bool:
        return unit in self.units

    def get(self, unit: str) -> Any:
        return self.units.get(unit)

    def mark_done(self, unit: str, info: Any = True) -> None:
        self.units[unit] = info
        write_json_atomic(self.path, {"fingerprint": self.fingerprint, "units": self.units})

    def clear(self) -> None:
        self.units = {}
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
