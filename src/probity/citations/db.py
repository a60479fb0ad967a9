"""The verified citation database: SQLite with an FTS5 index over titles and author surnames.

Schema: ``records`` (one row per paper: title, normalised title, authors as JSON, surname keys,
year, venue and its canonical key, DOI, arXiv id), a contentless-sync FTS5 table ``fts`` over
(normalised title, surname keys) with bm25 ranking, B-tree indexes on the normalised title,
DOI and arXiv id, and ``imports`` (per input file: entries processed, so an interrupted import
resumes where it stopped). A record's ``key`` is its DOI when known, else a hash of normalised
title, year and first surname, so importing the same file twice adds nothing (idempotent).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from probity.errors import CorruptIndexError, InputError

from ._importers import FORMATS, detect_format, read_entries
from ._norm import (
    arxiv_from_doi,
    clean_name,
    normalize_arxiv,
    normalize_doi,
    surname_key,
    title_norm,
    venue_key,
)
from ._types import DBStats, ImportReport, Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records(
  id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, title TEXT NOT NULL, title_norm TEXT NOT NULL,
  authors TEXT NOT NULL, surnames TEXT NOT NULL, year INTEGER, venue TEXT, venue_key TEXT,
  doi TEXT, arxiv TEXT, url TEXT, source TEXT);
CREATE INDEX IF NOT EXISTS records_title ON records(title_norm);
CREATE INDEX IF NOT EXISTS records_doi ON records(doi) WHERE doi IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_arxiv ON records(arxiv) WHERE arxiv IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
  title, surnames, content='', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
CREATE TABLE IF NOT EXISTS imports(
  fingerprint TEXT PRIMARY KEY, path TEXT, format TEXT, done INTEGER, finished INTEGER,
  added INTEGER, updated REAL);
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT);
"""
_COLS = "id, key, title, authors, year, venue, doi, arxiv, url, source"
# Words too common in titles to select candidates with (they are still compared afterwards).
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "and",
        "in",
        "on",
        "with",
        "to",
        "via",
        "from",
        "by",
        "at",
        "as",
        "is",
        "are",
        "towards",
        "toward",
        "using",
        "based",
        "its",
        "into",
        "under",
        "over",
        "their",
        "our",
        "we",
        "new",
    ]
)
_BATCH = 2000


def _row_record(row: Sequence[Any]) -> Record:
    return Record(
        id=row[0],
        key=row[1],
        title=row[2],
        authors=tuple(json.loads(row[3])),
        year=row[4],
        venue=row[5],
        doi=row[6],
        arxiv=row[7],
        url=row[8],
        source=row[9] or "",
    )


class CitationDB:
    """A local verified bibliographic database.

    ``path`` defaults to :func:`probity.home.citations_db_path` (``<home>/citations.db``).
    Opening a missing file creates an empty database; use :meth:`stats` to see its size.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        if path is None:
            from probity.home import citations_db_path

            path = citations_db_path()
        self.path = Path(path)
        if not create and not self.path.exists():
            raise InputError(
                f"no citation database at {self.path}",
                hint="import records first: probity cite db import FILE",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path), check_same_thread=False)
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise CorruptIndexError(
                f"{self.path} is not a Probity citation database ({exc})",
                hint="move it away and import your records again",
            ) from exc
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._df: dict[str, int] = {}
        self._count: int | None = None
        self._prefixes: set[str] | None = None
        self._venues: set[str] | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> CitationDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        if self._count is None:
            self._count = int(self.conn.execute("SELECT count(*) FROM records").fetchone()[0])
        return self._count

    # -- writing ------------------------------------------------------------------------------
    def add_records(
        self, records: Iterable[dict[str, Any]], *, source: str = ""
    ) -> tuple[int, int]:
        """Insert flat records (title, authors, year, venue, doi, arxiv, url); returns
        ``(added, duplicates)``. Records without a title raise ``InputError``."""
        added = total = 0
        pending: list[tuple[Any, ...]] = []
        with self.conn:
            for rec in records:
                pending.append(self._row(rec, source))
                total += 1
                if len(pending) >= _BATCH:
                    added += self._flush(pending)
            added += self._flush(pending)
        self._invalidate()
        return added, total - added

    def _row(self, rec: dict[str, Any], source: str) -> tuple[Any, ...]:
        """The ``records`` row of a flat record (``InputError`` without a title)."""
        title = str(rec.get("title") or "").strip()
        tnorm = title_norm(title)
        if not tnorm:
            raise InputError(f"record without a title: {rec!r:.200}")
        authors = [n for n in (clean_name(str(a)) for a in rec.get("authors") or []) if n]
        keys = [k for k in (surname_key(a) for a in authors) if k]
        doi = normalize_doi(rec.get("doi"))
        arxiv = normalize_arxiv(rec.get("arxiv")) or arxiv_from_doi(doi)
        year = rec.get("year")
        year = int(year) if year not in (None, "") else None
        if doi:
            key = "doi:" + doi
        else:
            h = hashlib.sha1(f"{tnorm}|{year}|{keys[0] if keys else ''}".encode()).hexdigest()
            key = "t:" + h[:20]
        venue = rec.get("venue")
        return (
            key,
            title,
            tnorm,
            json.dumps(authors, ensure_ascii=False),
            " ".join(keys),
            year,
            venue,
            venue_key(venue),
            doi,
            arxiv,
            rec.get("url"),
            source or rec.get("key") or "",
        )

    def _flush(self, rows: list[tuple[Any, ...]]) -> int:
        """Insert pending rows (duplicates ignored) and index the new ones; returns how many
        were added. New rows get ids above the current maximum, so one INSERT ... SELECT
        indexes exactly them."""
        if not rows:
            return 0
        top = self.conn.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0]
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT OR IGNORE INTO records(key, title, title_norm, authors, surnames, year, venue,"
            " venue_key, doi, arxiv, url, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        added = self.conn.total_changes - before
        if added:
            self.conn.execute(
                "INSERT INTO fts(rowid, title, surnames) SELECT id, title_norm, surnames"
                " FROM records WHERE id > ?",
                (top,),
            )
        rows.clear()
        return added

    def import_file(
        self, path: str | os.PathLike[str], format: str | None = None, *, progress: Any = None
    ) -> ImportReport:
        """Import a BibTeX, CSL-JSON, JSONL or DBLP XML file (``.gz``/``.zst`` too).

        Streams the file; commits every 2,000 entries together with the count of entries done,
        so an interrupted import resumes after the last commit when run again. Importing a file
        twice adds nothing. A malformed entry is skipped and listed in the report's
        ``rejects`` (position and reason); every other entry is imported.
        ``progress(n)`` is called after each committed batch with the entries processed.
        """
        p = Path(path)
        if not p.exists():
            raise InputError(f"no such file: {p}")
        fmt = (format or detect_format(p)).lower()
        if fmt not in FORMATS:
            raise InputError(
                f"unknown citation format {fmt!r}", hint="use one of " + ", ".join(FORMATS)
            )
        st = p.stat()
        fp = hashlib.sha1(
            f"{p.resolve()}|{st.st_size}|{int(st.st_mtime)}|{fmt}".encode()
        ).hexdigest()
        row = self.conn.execute(
            "SELECT done, finished FROM imports WHERE fingerprint=?", (fp,)
        ).fetchone()
        resume = int(row[0]) if row and not row[1] else 0
        t0 = time.perf_counter()
        read = added = valid = skipped = 0
        pending: list[tuple[Any, ...]] = []
        rejects: list[dict[str, Any]] = []
        n = 0
        self.conn.execute("BEGIN")
        try:
            for pos, rec, reason in read_entries(p, fmt):
                n += 1
                if n <= resume:
                    continue
                read += 1
                if rec is None:
                    skipped += 1
                    if len(rejects) < 1000:
                        rejects.append({"position": pos, "reason": reason})
                else:
                    try:
                        pending.append(self._row(rec, rec.get("key") or p.name))
                        valid += 1
                    except (InputError, ValueError, TypeError) as exc:
                        skipped += 1
                        if len(rejects) < 1000:
                            rejects.append({"position": pos, "reason": str(exc)[:200]})
                if n % _BATCH == 0:
                    added += self._flush(pending)
                    self._mark(fp, p, fmt, n, False, added)
                    self.conn.execute("COMMIT")
                    if progress:
                        progress(n)
                    self.conn.execute("BEGIN")
            added += self._flush(pending)
            self._mark(fp, p, fmt, n, True, added)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self._invalidate()
        return ImportReport(
            path=str(p),
            format=fmt,
            read=read,
            added=added,
            duplicates=valid - added,
            skipped=skipped,
            resumed_from=resume,
            seconds=time.perf_counter() - t0,
            rejects=tuple(rejects),
        )

    def _mark(self, fp: str, p: Path, fmt: str, done: int, finished: bool, added: int) -> None:
        self.conn.execute(
            "INSERT INTO imports VALUES (?,?,?,?,?,?,?) ON CONFLICT(fingerprint) DO UPDATE SET "
            "done=excluded.done, finished=excluded.finished, added=imports.added+excluded.added,"
            " updated=excluded.updated",
            (fp, str(p), fmt, done, int(finished), 0, time.time()),
        )
        if finished:
            self.conn.execute("UPDATE imports SET added=? WHERE fingerprint=?", (added, fp))

    def _invalidate(self) -> None:
        self._df.clear()
        self._count = None
        self._prefixes = None
        self._venues = None

    # -- reading ------------------------------------------------------------------------------
    def stats(self) -> DBStats:
        """Counts and the file size (bytes) of the database."""
        c = self.conn
        n, nd, na, nv, y0, y1 = c.execute(
            "SELECT count(*), count(doi), count(arxiv), count(DISTINCT venue_key), min(year),"
            " max(year) FROM records"
        ).fetchone()
        imports = tuple(
            {"path": r[0], "format": r[1], "entries": r[2], "finished": bool(r[3])}
            for r in c.execute("SELECT path, format, done, finished FROM imports")
        )
        size = sum(
            os.path.getsize(f) for f in (self.path, Path(f"{self.path}-wal")) if os.path.exists(f)
        )
        return DBStats(
            path=str(self.path),
            records=int(n),
            with_doi=int(nd),
            with_arxiv=int(na),
            venues=int(nv),
            year_min=y0,
            year_max=y1,
            bytes=int(size),
            imports=imports,
        )

    def list(self, *, limit: int = 20, offset: int = 0, query: str | None = None) -> list[Record]:
        """Records in insertion order, or those whose title matches ``query`` (FTS)."""
        if query:
            ids = self._fts_ids(title_norm(query).split(), [], limit + offset)[offset:]
            return self._by_ids(ids)
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM records ORDER BY id LIMIT ? OFFSET ?", (limit, offset)
        ).fetchall()
        return [_row_record(r) for r in rows]

    def by_doi(self, doi: str) -> Record | None:
        d = normalize_doi(doi)
        if not d:
            return None
        row = self.conn.execute(f"SELECT {_COLS} FROM records WHERE doi=? LIMIT 1", (d,)).fetchone()
        return _row_record(row) if row else None

    def by_arxiv(self, arxiv: str) -> Record | None:
        a = normalize_arxiv(arxiv)
        if not a:
            return None
        row = self.conn.execute(
            f"SELECT {_COLS} FROM records WHERE arxiv=? LIMIT 1", (a,)
        ).fetchone()
        return _row_record(row) if row else None

    def doi_prefix_known(self, doi: str) -> bool:
        """Whether any record has a DOI with the same registrant prefix (``10.1109``)."""
        if self._prefixes is None:
            self._prefixes = {
                r[0]
                for r in self.conn.execute(
                    "SELECT DISTINCT substr(doi, 1, instr(doi, '/') - 1) FROM records"
                    " WHERE doi IS NOT NULL"
                )
            }
        d = normalize_doi(doi)
        return bool(d) and d.split("/", 1)[0] in self._prefixes

    def doi_prefix_count(self) -> int:
        """How many distinct DOI registrant prefixes the records carry."""
        self.doi_prefix_known("10.0/x")  # fills the cache
        return len(self._prefixes or ())

    def venue_known(self, key: str) -> bool:
        """Whether any record's canonical venue key equals ``key``."""
        if self._venues is None:
            self._venues = {
                r[0]
                for r in self.conn.execute(
                    "SELECT DISTINCT venue_key FROM records WHERE venue_key IS NOT NULL"
                )
            }
        return key in self._venues

    def lookup(
        self,
        title: str | None = None,
        authors: Sequence[str] = (),
        *,
        doi: str | None = None,
        arxiv: str | None = None,
        limit: int = 10,
    ) -> list[Record]:
        """Candidate records for a citation, best first.

        Identifier hits come first, then exact normalised-title hits, then up to ``limit``
        FTS5 bm25 hits on the four rarest title words (document frequency from the FTS
        vocabulary) OR the author surname keys. Rare words keep a lookup fast on millions of
        records and survive a substituted word in a near-miss title.
        """
        out: list[Record] = []
        seen: set[int] = set()

        def push(recs: Iterable[Record]) -> None:
            for r in recs:
                if r.id not in seen:
                    seen.add(r.id)
                    out.append(r)

        if doi and (r := self.by_doi(doi)):
            push([r])
        if arxiv and (r := self.by_arxiv(arxiv)):
            push([r])
        tn = title_norm(title) if title else ""
        if tn:
            rows = self.conn.execute(
                f"SELECT {_COLS} FROM records WHERE title_norm=? LIMIT 5", (tn,)
            ).fetchall()
            push(_row_record(r) for r in rows)
        keys = [k for k in (surname_key(a) for a in authors) if k][:6]
        if tn or keys:
            push(self._by_ids(self._fts_ids(tn.split(), keys, limit)))
        return out[: max(limit, 1) + 2]

    def _doc_freq(self, terms: list[str]) -> dict[str, int]:
        missing = [t for t in terms if t not in self._df]
        if missing:
            got = dict(
                self.conn.execute(
                    f"SELECT term, doc FROM fts_vocab WHERE term IN ({','.join('?' * len(missing))})",
                    missing,
                ).fetchall()
            )
            for t in missing:
                self._df[t] = int(got.get(t, 0))
            if len(self._df) > 200_000:
                self._df.clear()
        return {t: self._df.get(t, 0) for t in terms}

    def _fts_ids(self, title_terms: list[str], surnames: list[str], limit: int) -> list[int]:
        """Candidate ids, by conjunctive FTS5 queries on rare words (cheap at any size).

        1. all of the three rarest title words; 2. if nothing, every pair of the four rarest
        (a near-miss title with one substituted word still shares a pair); 3. if nothing, the
        rarest word alone; then 4. records sharing the author surnames (all, else any), so a
        real author with an invented title still yields a closest record. Conjunctions over
        short posting lists keep a lookup in the sub-millisecond range where a ranked OR over
        common words scans tens of thousands of documents.
        """
        terms = sorted({t for t in title_terms if t not in _STOP and len(t) > 1})
        df = self._doc_freq(terms) if terms else {}
        rare = sorted((t for t in terms if df.get(t, 0) > 0), key=lambda t: df[t])[:4]
        out: list[int] = []
        seen: set[int] = set()

        def run(query: str) -> None:
            try:
                rows = self.conn.execute(
                    "SELECT rowid FROM fts WHERE fts MATCH ? LIMIT ?", (query, limit)
                ).fetchall()
            except sqlite3.OperationalError:
                return
            for (rid,) in rows:
                if rid not in seen:
                    seen.add(rid)
                    out.append(rid)

        if len(rare) >= 2:
            run("title:(" + " AND ".join(_q(t) for t in rare[:3]) + ")")
            if not out:
                for i in range(len(rare)):
                    for j in range(i + 1, len(rare)):
                        run(f"title:({_q(rare[i])} AND {_q(rare[j])})")
        if not out and rare:
            run(f"title:{_q(rare[0])}")
        if surnames and len(out) < limit:
            keys = list(dict.fromkeys(surnames))
            before = len(out)
            run("surnames:(" + " AND ".join(_q(k) for k in keys) + ")")
            if len(out) == before and len(keys) > 1:
                run("surnames:(" + " OR ".join(_q(k) for k in keys) + ")")
        return out[:limit]

    def _by_ids(self, ids: list[int]) -> list[Record]:
        if not ids:
            return []
        rows = self.conn.execute(
            f"SELECT {_COLS} FROM records WHERE id IN ({','.join('?' * len(ids))})", ids
        ).fetchall()
        by = {r[0]: _row_record(r) for r in rows}
        return [by[i] for i in ids if i in by]

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", (key, value))


def _q(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'
