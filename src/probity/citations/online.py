"""Optional online lookups (Crossref, OpenAlex) for references the local database lacks.

Off by default: nothing here runs unless a user passes ``--online`` (CLI) or calls
:func:`resolve_online`. Only ``not_found`` verdicts are looked up; a reference becomes
``verified`` only when an online record passes the same checks as a local one (the
:class:`~probity.citations.Verifier` runs on the candidates), and its evidence then says so
("not in the local database; verified online against Crossref ..."): an online answer never
changes a verdict silently. Responses are cached in the Probity home (``cache/online.sqlite``)
so a repeated check makes no request.

Written on httpx (a core dependency) rather than habanero/pyalex: two GET endpoints and a
cache do not justify two more packages, and the base URLs can point at a local server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from probity.errors import InputError

from ._types import CitationVerdict, Reference

CROSSREF_URL = "https://api.crossref.org"
OPENALEX_URL = "https://api.openalex.org"


def _crossref_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for it in (payload.get("message") or {}).get("items") or []:
        title = " ".join(it.get("title") or [])
        if not title:
            continue
        parts = ((it.get("issued") or {}).get("date-parts") or [[None]])[0]
        out.append(
            {
                "title": title,
                "authors": [
                    " ".join(x for x in (a.get("given"), a.get("family")) if x) or a.get("name", "")
                    for a in it.get("author") or []
                ],
                "year": parts[0] if parts else None,
                "venue": " ".join(it.get("container-title") or []) or None,
                "doi": it.get("DOI"),
            }
        )
    return out


def _openalex_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for it in payload.get("results") or []:
        if not it.get("title"):
            continue
        source = ((it.get("primary_location") or {}).get("source") or {}).get("display_name")
        doi = it.get("doi") or None
        out.append(
            {
                "title": it["title"],
                "authors": [
                    (a.get("author") or {}).get("display_name", "")
                    for a in it.get("authorships") or []
                ],
                "year": it.get("publication_year"),
                "venue": source,
                "doi": doi.split("doi.org/", 1)[-1] if doi else None,
            }
        )
    return out


class OnlineResolver:
    """Crossref and OpenAlex title searches with an SQLite response cache.

    ``crossref_url`` / ``openalex_url`` default to the public APIs (or the
    ``PROBITY_CROSSREF_URL`` / ``PROBITY_OPENALEX_URL`` environment variables); ``mailto``
    joins Crossref's polite pool.
    """

    def __init__(
        self,
        cache: str | os.PathLike[str] | None = None,
        *,
        crossref_url: str | None = None,
        openalex_url: str | None = None,
        mailto: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if cache is None:
            from probity.home import cache_dir

            cache = cache_dir() / "online.sqlite"
        self.cache_path = Path(cache)
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.cache_path)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS responses (url TEXT PRIMARY KEY, body TEXT, fetched REAL)"
        )
        self.sources = {
            "crossref": (
                crossref_url or os.environ.get("PROBITY_CROSSREF_URL") or CROSSREF_URL
            ).rstrip("/"),
            "openalex": (
                openalex_url or os.environ.get("PROBITY_OPENALEX_URL") or OPENALEX_URL
            ).rstrip("/"),
        }
        self.mailto = mailto
        self.timeout = timeout
        self.requests = 0

    def close(self) -> None:
        self.conn.close()

    def _get(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        import httpx

        key = url + "?" + json.dumps(params, sort_keys=True)
        row = self.conn.execute("SELECT body FROM responses WHERE url = ?", (key,)).fetchone()
        if row is not None:
            return json.loads(row[0])
        self.requests += 1
        try:
            resp = httpx.get(url, params=params, timeout=self.timeout)
            resp.raise_for_status()
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise InputError(f"online lookup failed: {url}: {exc}") from exc
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?)",
                (key, json.dumps(body), time.time()),
            )
        return body

    def candidates(self, ref: Reference) -> list[tuple[str, dict[str, Any]]]:
        """``(source, record)`` candidates for a reference's title (and first author)."""
        if not ref.title:
            return []
        query = ref.title + (" " + ref.authors[0] if ref.authors else "")
        cr_params = {"query.bibliographic": query, "rows": "5"}
        if self.mailto:
            cr_params["mailto"] = self.mailto
        out = [
            ("crossref", r)
            for r in _crossref_records(self._get(self.sources["crossref"] + "/works", cr_params))
        ]
        oa = self._get(self.sources["openalex"] + "/works", {"search": ref.title, "per-page": "5"})
        out += [("openalex", r) for r in _openalex_records(oa)]
        return out


def resolve_online(
    verdicts: list[CitationVerdict], resolver: OnlineResolver
) -> list[CitationVerdict]:
    """Look up every ``not_found`` reference online; a reference whose online candidate the
    verifier accepts becomes ``verified`` with evidence naming the source and DOI, and
    ``details["online"]``. Other verdicts are returned unchanged."""
    from .db import CitationDB
    from .verify import Verifier

    out = list(verdicts)
    for i, v in enumerate(verdicts):
        if v.verdict != "not_found" or not v.reference.title:
            continue
        cands = resolver.candidates(v.reference)
        if not cands:
            continue
        with tempfile.TemporaryDirectory(prefix="probity-online-") as tmp:
            db = CitationDB(Path(tmp) / "online.db")
            try:
                for source, rec in cands:
                    db.add_records([rec], source=source)
                got = Verifier(db).verify(v.reference)
                if got.verdict != "verified" or got.closest is None:
                    continue
                rec = got.closest
                source = rec.source
            finally:
                db.close()
        out[i] = dataclasses.replace(
            got,
            evidence=(
                f"not in the local database; verified online against {source}"
                + (f" (DOI {rec.doi})" if rec.doi else ""),
                *got.evidence,
            ),
            details={**got.details, "online": {"source": source, "doi": rec.doi}},
        )
    return out
