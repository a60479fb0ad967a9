"""Verdicts for references: look each up in the verified database and compare field by field.

For a reference ``c`` and a candidate record ``r`` the matcher computes

* ``title_sim`` = normalised Indel similarity (rapidfuzz ``ratio``/100) of the folded titles, and
  the *word difference*: words of one title missing from the other after pairing near-identical
  words (similarity >= 0.8, a typo or plural) -- a substituted, added or dropped word is what
  separates a near-miss fake from a typo, which title similarity alone cannot;
* the author comparison: cited names are matched to the record's by surname key, with the first
  initial checked when both sides give it and token-set equality for reversed (CJK) name order;
  ``missing`` (record authors not cited; ignored after "et al."), ``extra`` (cited names not in
  the record) and whether the first author agrees;
* year (equal, off by n, or in the future), venue (canonical key equality), DOI / arXiv id
  (resolves to this record, to another record, or to nothing).

The candidate maximising ``0.6 title_sim + 0.3 author_f1 + 0.1 [year equal]`` is the closest
record. A title that matches with no word difference makes the reference *the same paper*; then
the first failing field decides the verdict in the order bad_identifier, author_mismatch,
year_mismatch, venue_mismatch. Otherwise the verdict is ``not_found`` (the closest record and
the differing words are the evidence), and a reference with neither title nor identifier is
``incomplete``: could not check is never reported as fabricated.

``confidence`` = sigmoid(a_v * m + b_v): ``m`` is a margin in [0, 1] for the verdict ``v``
(how clearly the evidence separates it from the alternatives) and ``(a_v, b_v)`` are Platt
parameters; :func:`calibrate` fits them by logistic regression on synthetic noisy and corrupted
citations generated from the database's own records, and stores them in the database.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from rapidfuzz import fuzz

from probity.errors import InputError

from ._norm import (
    arxiv_from_doi,
    first_initial,
    known_venue,
    name_tokens,
    normalize_arxiv,
    normalize_doi,
    surname_key,
    title_norm,
    venue_key,
)
from ._types import CitationVerdict, Record, Reference
from .db import CitationDB

#: Title similarity above which a candidate can be the same paper (word diff decides the rest).
TITLE_MATCH = 0.80
_DEFAULT_PLATT: dict[str, tuple[float, float]] = {
    "verified": (8.0, -4.0),
    "not_found": (8.0, -4.0),
    "mismatch": (8.0, -4.0),
    "incomplete": (0.0, 0.0),
}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, x))))


def word_difference(cited: str, record: str) -> tuple[list[str], list[str]]:
    """Words only in ``cited`` and only in ``record`` (folded titles), after pairing words that
    are near-identical (rapidfuzz ratio >= 80: typos, British/US spelling) but not inflections
    of each other (one a prefix of the other: "model"/"models")."""
    a, b = title_norm(cited).split(), title_norm(record).split()
    only_a = list(a)
    only_b = list(b)
    for w in a:
        if w in only_b:
            only_b.remove(w)
            only_a.remove(w)
    for w in list(only_a):
        best = max(only_b, key=lambda x: fuzz.ratio(w, x), default=None)
        # an inflection ("model" -> "models", "learning" -> "learnings") is a different word,
        # which is how near-miss fakes are made; a misspelling inside the word is a typo.
        if (
            best is not None
            and len(w) > 3
            and fuzz.ratio(w, best) >= 80
            and not w.startswith(best)
            and not best.startswith(w)
        ):
            only_a.remove(w)
            only_b.remove(best)
    return only_a, only_b


def compare_authors(cited: Sequence[str], record: Sequence[str], et_al: bool) -> dict[str, Any]:
    """Match cited author names to the record's; see the module docstring."""
    rec = list(record)
    rk = [surname_key(a) for a in rec]
    used = [False] * len(rec)
    extra: list[str] = []
    matched_pos: list[int] = []
    for name in cited:
        k = surname_key(name)
        hit = -1
        for j, key in enumerate(rk):
            if not used[j] and key and key == k:
                ci, ri = first_initial(name), first_initial(rec[j])
                if ci and ri and ci != ri:
                    continue
                hit = j
                break
        if hit < 0:
            toks = set(name_tokens(name))
            for j in range(len(rec)):
                if not used[j] and toks and toks == set(name_tokens(rec[j])):
                    hit = j
                    break
        if hit < 0:
            extra.append(name)
        else:
            used[hit] = True
            matched_pos.append(hit)
    missing = [rec[j] for j in range(len(rec)) if not used[j]]
    n_match = len(matched_pos)
    first_ok = bool(matched_pos) and matched_pos[0] == 0
    order_ok = matched_pos == sorted(matched_pos)
    precision = n_match / len(cited) if cited else 0.0
    recall = n_match / len(rec) if rec else 0.0
    if et_al and not extra:
        recall = 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ok = bool(cited) and not extra and (not missing or et_al) and first_ok and order_ok
    return {
        "ok": ok,
        "missing": missing if not et_al else [],
        "extra": extra,
        "first_author_ok": first_ok,
        "order_ok": order_ok,
        "f1": f1,
        "matched": n_match,
        "cited": len(cited),
        "record": len(rec),
        "missing_after_et_al": len(missing) if et_al else 0,
    }


def _score(ref: Reference, rec: Record) -> tuple[float, float, dict[str, Any]]:
    tsim = fuzz.ratio(title_norm(ref.title or ""), title_norm(rec.title)) / 100.0
    auth = compare_authors(ref.authors, rec.authors, ref.et_al) if ref.authors else None
    af1 = auth["f1"] if auth else 0.5
    yeq = 1.0 if ref.year is not None and ref.year == rec.year else 0.0
    return 0.6 * tsim + 0.3 * af1 + 0.1 * yeq, tsim, {"authors": auth}


class Verifier:
    """Verifies references against a :class:`CitationDB`. Holds the calibration parameters."""

    def __init__(self, db: CitationDB, *, current_year: int | None = None) -> None:
        if len(db) == 0:
            # against an empty database every reference would look invented: refuse instead
            raise InputError(
                f"the citation database {db.path} is empty, so nothing can be verified",
                hint="import records: probity cite db import FILE",
            )
        self.db = db
        self.current_year = current_year or _dt.date.today().year
        raw = db.meta("platt")
        self.platt = dict(_DEFAULT_PLATT)
        if raw:
            self.platt.update({k: tuple(v) for k, v in json.loads(raw).items()})

    def _conf(self, group: str, margin: float) -> float:
        a, b = self.platt.get(group, (8.0, -4.0))
        if group == "incomplete":
            return 1.0
        return _sigmoid(a * margin + b)

    def verify(self, ref: Reference) -> CitationVerdict:
        doi = normalize_doi(ref.doi)
        arxiv = normalize_arxiv(ref.arxiv) or arxiv_from_doi(doi)
        fields: dict[str, str] = {
            k: "missing" for k in ("title", "authors", "year", "venue", "doi", "arxiv")
        }
        evidence: list[str] = []
        details: dict[str, Any] = {}
        if not ref.title and not doi and not arxiv:
            what = "authors and year" if ref.authors and ref.year else "too few fields"
            return CitationVerdict(
                ref,
                "incomplete",
                1.0,
                (f"only {what}: no title, DOI or arXiv id to look up",),
                None,
                fields,
                {"margin": 0.0},
            )
        doi_rec = self.db.by_doi(doi) if doi else None
        arx_rec = self.db.by_arxiv(arxiv) if arxiv else None
        cands = self.db.lookup(ref.title, ref.authors, doi=doi, arxiv=arxiv, limit=10)
        best: Record | None = None
        best_s, best_t, best_info = -1.0, 0.0, {}
        if ref.title:
            # title similarity for every candidate (cheap); the full score (authors too) only
            # for the three most similar titles and any above the match threshold
            tn = title_norm(ref.title)
            sims = [fuzz.ratio(tn, title_norm(r.title)) / 100.0 for r in cands]
            order = sorted(range(len(cands)), key=lambda i: -sims[i])
            for rank, i in enumerate(order):
                if rank >= 3 and sims[i] < TITLE_MATCH:
                    break
                s, t, info = _score(ref, cands[i])
                if s > best_s:
                    best, best_s, best_t, best_info = cands[i], s, t, info
        else:
            best = doi_rec or arx_rec
            best_t = 1.0 if best else 0.0
            best_s = best_t
            if best is not None and ref.authors:
                best_info = {"authors": compare_authors(ref.authors, best.authors, ref.et_al)}
        details["title_similarity"] = round(best_t, 4)
        details["score"] = round(max(best_s, 0.0), 4)
        details["candidates"] = len(cands)

        # ---- is the closest record the same paper? ----------------------------------------
        same = False
        if best is not None and ref.title:
            only_c, only_r = word_difference(ref.title, best.title)
            details["title_words_only_cited"] = only_c
            details["title_words_only_record"] = only_r
            same = best_t >= TITLE_MATCH and not only_c and not only_r
            if same:
                fields["title"] = "match"
            elif best_t >= TITLE_MATCH:
                fields["title"] = "mismatch"
                evidence.append(
                    f"title differs from the closest record '{best.title}' "
                    f"(cited words {only_c or '-'} vs record words {only_r or '-'})"
                )
            else:
                fields["title"] = "mismatch"
        elif best is not None:
            same = True  # identifier-only reference that resolves
            fields["title"] = "unchecked"

        # ---- identifiers ------------------------------------------------------------------
        bad_id = False
        if doi:
            if doi_rec is not None and best is not None and doi_rec.id == best.id and same:
                fields["doi"] = "match"
            elif doi_rec is not None:
                fields["doi"] = "mismatch"
                bad_id = True
                evidence.append(f"DOI {doi} belongs to another paper: '{doi_rec.title}'")
            elif same and best is not None and best.doi:
                fields["doi"] = "mismatch"
                bad_id = True
                evidence.append(f"DOI {doi} does not resolve; the record's DOI is {best.doi}")
            elif (
                not self.db.doi_prefix_known(doi)
                and not (arxiv and arx_rec is not None)
                and (not (same and best is not None) or self.db.doi_prefix_count() >= _PREFIXES)
            ):
                # an unknown prefix counts against a DOI when nothing else identifies the
                # paper, or when the database knows enough registrants (_PREFIXES) for an
                # unseen one to be suspect: on a small personal database most real DOIs have
                # a prefix it has never seen
                fields["doi"] = "mismatch"
                bad_id = True
                evidence.append(
                    f"DOI {doi} does not resolve in the database and no DOI there "
                    f"has its registrant prefix {doi.split('/', 1)[0]}"
                )
            else:
                fields["doi"] = "unchecked"
        if arxiv:
            if arx_rec is not None and best is not None and arx_rec.id == best.id:
                fields["arxiv"] = "match"
            elif arx_rec is not None:
                fields["arxiv"] = "mismatch"
                bad_id = True
                evidence.append(f"arXiv id {arxiv} belongs to another paper: '{arx_rec.title}'")
            elif same and best is not None and best.arxiv:
                fields["arxiv"] = "mismatch"
                bad_id = True
                evidence.append(f"arXiv id {arxiv} does not match the record's {best.arxiv}")
            else:
                fields["arxiv"] = "unchecked"

        if not same or best is None:
            if not ref.title and (doi or arxiv):
                ident = doi or arxiv
                margin = 0.9
                verdict = "bad_identifier"
                evidence.insert(0, f"identifier {ident} does not resolve in the database")
                return CitationVerdict(
                    ref,
                    verdict,
                    self._conf("mismatch", margin),
                    tuple(evidence),
                    None,
                    fields,
                    {**details, "margin": margin},
                )
            if best is None:
                evidence.insert(
                    0, "no record in the database shares this title's rare words or these authors"
                )
            else:
                evidence.insert(
                    0,
                    f"no record close enough (closest title similarity "
                    f"{best_t:.2f}: '{best.title}')",
                )
            auth = best_info.get("authors")
            if auth and best_t < TITLE_MATCH and auth["matched"]:
                evidence.append(
                    f"{auth['matched']} cited author(s) appear on the closest record "
                    "but the title does not: a real author with an invented title?"
                )
            # far from every record: 1 - score; a near miss (words differ): a fixed 0.7
            margin = 1.0 - max(best_s, 0.0) if best_t < TITLE_MATCH else 0.7
            margin = min(max(margin, 0.0), 1.0)
            return CitationVerdict(
                ref,
                "not_found",
                self._conf("not_found", margin),
                tuple(evidence),
                best,
                fields,
                {**details, "margin": margin},
            )

        # ---- the same paper: compare the other fields -------------------------------------
        problems: list[str] = []
        if bad_id:
            problems.append("bad_identifier")
        auth = best_info.get("authors")
        if auth is not None:
            details["authors"] = auth
            if auth["ok"]:
                fields["authors"] = "match"
            else:
                fields["authors"] = "mismatch"
                problems.append("author_mismatch")
                bits = []
                if auth["missing"]:
                    bits.append("missing " + ", ".join(auth["missing"]))
                if auth["extra"]:
                    bits.append("not on the paper " + ", ".join(auth["extra"]))
                if auth["matched"] and not auth["first_author_ok"]:
                    bits.append("first author differs")
                elif not auth["order_ok"]:
                    bits.append("author order differs")
                evidence.append(
                    "authors: " + "; ".join(bits) + f" (record: {', '.join(best.authors)})"
                )
        if ref.year is not None:
            if ref.year > self.current_year:
                fields["year"] = "mismatch"
                problems.append("year_mismatch")
                evidence.append(f"year {ref.year} is in the future (record: {best.year})")
            elif best.year is not None and ref.year != best.year:
                fields["year"] = "mismatch"
                problems.append("year_mismatch")
                evidence.append(f"year {ref.year} but the record says {best.year}")
            elif best.year is not None:
                fields["year"] = "match"
            else:
                fields["year"] = "unchecked"
        if ref.venue:
            ck, rk = venue_key(ref.venue), venue_key(best.venue)
            if not rk and (best.arxiv or (best.doi or "").startswith("10.48550/")):
                rk = "corr"  # a record with only an arXiv id is a preprint
            if not rk and ck and not known_venue(ck) and not self.db.venue_known(ck):
                fields["venue"] = "mismatch"
                problems.append("venue_mismatch")
                evidence.append(
                    f"venue '{ref.venue}' appears nowhere in the database (the "
                    "record gives no venue)"
                )
            elif not rk:
                fields["venue"] = "unchecked"
            elif ck == rk or (len(ck) > 6 and fuzz.ratio(ck, rk) >= 85):
                fields["venue"] = "match"
            else:
                fields["venue"] = "mismatch"
                problems.append("venue_mismatch")
                note = " (the record is a preprint)" if rk == "corr" else ""
                evidence.append(
                    f"venue '{ref.venue}' but the record says '{best.venue or 'arXiv'}'{note}"
                )
        if problems:
            verdict = problems[0]
            margin = min(1.0, max(0.0, (best_t - TITLE_MATCH) / (1 - TITLE_MATCH)))
            details["problems"] = problems
            return CitationVerdict(
                ref,
                verdict,
                self._conf("mismatch", margin),
                tuple(evidence),
                best,
                fields,
                {**details, "margin": margin},
            )
        checked = sum(
            1 for k in ("authors", "year", "venue", "doi", "arxiv") if fields[k] == "match"
        )
        margin = min(
            1.0, max(0.0, (best_t - TITLE_MATCH) / (1 - TITLE_MATCH)) * 0.6 + 0.1 * checked
        )
        evidence.insert(
            0,
            f"matches '{best.title}' ({best.year}, {best.venue or 'no venue'}) "
            f"on {', '.join(k for k, s in fields.items() if s == 'match')}",
        )
        return CitationVerdict(
            ref,
            "verified",
            self._conf("verified", margin),
            tuple(evidence),
            best,
            fields,
            {**details, "margin": margin},
        )


#: distinct DOI prefixes a database must know before an unseen prefix on a paper it has is
#: held against the citation (a personal bibliography knows a handful; DBLP knows thousands)
_PREFIXES = 25


def verify_references(
    text_or_refs: str | Reference | Sequence[Reference], db: CitationDB | None = None
) -> list[CitationVerdict]:
    """Extract references from a text (or take them as given) and verify each against ``db``
    (default: the database in the Probity home). Returns one verdict per reference, in order."""
    from .extract import extract_references

    if isinstance(text_or_refs, str):
        refs = extract_references(text_or_refs)
    elif isinstance(text_or_refs, Reference):
        refs = [text_or_refs]
    else:
        refs = list(text_or_refs)
    own = db is None
    # "is None", not "or": an empty CitationDB is falsy and must not be swapped for the home one
    db = CitationDB() if db is None else db
    try:
        v = Verifier(db)
        return link_in_text([v.verify(r) for r in refs])
    finally:
        if own:
            db.close()


def link_in_text(verdicts: list[CitationVerdict]) -> list[CitationVerdict]:
    """Give each in-text citation the verdict of the reference-list entry it points to.

    ``(Chiang et al., 2023)`` links to the entry with the same first surname and year;
    ``Chiang and Cholak [3]`` to the entry labelled 3. A linked mention gets that entry's
    verdict, confidence and closest record, and ``details["linked_reference"]`` (its index in
    the returned list); a mention with no entry keeps its own verdict (``incomplete`` when it
    has only authors and a year).
    """
    entries = [
        (i, v.reference)
        for i, v in enumerate(verdicts)
        if v.reference.kind in ("reference", "bibtex")
    ]
    out = list(verdicts)
    for i, v in enumerate(verdicts):
        ref = v.reference
        if ref.kind != "in_text" or not ref.authors:
            continue
        key = surname_key(ref.authors[0])
        hit = None
        for j, ent in entries:
            if ref.label is not None:
                if ent.label == ref.label:
                    hit = j
                    break
            elif ent.authors and surname_key(ent.authors[0]) == key and ent.year == ref.year:
                hit = j
                break
        if hit is None:
            continue
        linked = verdicts[hit]
        out[i] = dataclasses.replace(
            linked,
            reference=ref,
            evidence=(f"cites reference {hit + 1} of this text", *linked.evidence),
            details={**linked.details, "linked_reference": hit},
        )
    return out


# ---- calibration ------------------------------------------------------------------------------


def synthetic_cases(db: CitationDB, n: int = 600, seed: int = 0) -> list[tuple[Reference, bool]]:
    """Noisy genuine and corrupted citations built from the database's own records.

    Genuine: the record with changed case, abbreviated first names, "et al." lists, dropped
    venue/DOI. Corrupted: a title word replaced by a word of another title, an author list of
    another record, a shifted year, another record's venue. ``(reference, is_genuine)``.
    """
    rng = random.Random(seed)
    recs = db.list(limit=max(4 * n, 400))
    if len(recs) < 10:
        return []
    vocab = [w for r in recs for w in title_norm(r.title).split() if len(w) > 4]
    out: list[tuple[Reference, bool]] = []
    for i in range(n):
        r = recs[rng.randrange(len(recs))]
        other = recs[rng.randrange(len(recs))]
        authors = list(r.authors)
        if rng.random() < 0.5:
            authors = [_abbrev(a) for a in authors]
        et_al = False
        if len(authors) > 3 and rng.random() < 0.4:
            authors, et_al = authors[:1], True
        title = r.title.lower() if rng.random() < 0.3 else r.title
        ref = Reference(
            title=title,
            authors=tuple(authors),
            year=r.year,
            venue=r.venue if rng.random() < 0.6 else None,
            et_al=et_al,
        )
        if i % 2 == 0:
            out.append((ref, True))
            continue
        kind = rng.randrange(4)
        if kind == 0 and vocab:
            ws = r.title.split()
            ws[rng.randrange(len(ws))] = rng.choice(vocab)
            ref = Reference(
                title=" ".join(ws),
                authors=ref.authors,
                year=ref.year,
                venue=ref.venue,
                et_al=ref.et_al,
            )
        elif kind == 1 and other.id != r.id:
            ref = Reference(title=ref.title, authors=other.authors, year=ref.year, venue=ref.venue)
        elif kind == 2 and r.year:
            ref = Reference(
                title=ref.title,
                authors=ref.authors,
                year=r.year + rng.choice([-2, -1, 1, 2]),
                venue=ref.venue,
                et_al=ref.et_al,
            )
        else:
            ref = Reference(
                title=rng.choice(vocab).capitalize() + " " + " ".join(rng.sample(vocab, 5)),
                authors=ref.authors,
                year=ref.year,
                venue=ref.venue,
                et_al=ref.et_al,
            )
        out.append((ref, False))
    return out


def _abbrev(name: str) -> str:
    parts = name.split()
    if len(parts) < 2:
        return name
    return " ".join(p[0] + "." for p in parts[:-1]) + " " + parts[-1]


def calibrate(
    db: CitationDB,
    n: int = 600,
    seed: int = 0,
    *,
    cases: Sequence[tuple[Reference, bool]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit the Platt parameters of each verdict group and store them in the database.

    The fit uses ``cases`` (``(reference, is_genuine)`` pairs a user labelled, e.g. a held-out
    split of their own checked bibliography) or, by default, :func:`synthetic_cases`. A
    verdict is *right* when ``verified`` is given to a genuine citation or a problem verdict
    to a corrupted one. ``progress(done, total)`` is called as citations are verified.
    Returns the fitted parameters and the Brier score before and after."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    cases = list(cases) if cases is not None else synthetic_cases(db, n, seed)
    v = Verifier(db)
    groups: dict[str, list[tuple[float, int, float]]] = {}
    for i, (ref, genuine) in enumerate(cases, 1):
        out = v.verify(ref)
        if progress is not None and (i % 25 == 0 or i == len(cases)):
            progress(i, len(cases))
        group = (
            "verified"
            if out.verdict == "verified"
            else ("not_found" if out.verdict == "not_found" else "mismatch")
        )
        if out.verdict == "incomplete":
            continue
        right = int((out.verdict == "verified") == genuine)
        groups.setdefault(group, []).append(
            (float(out.details.get("margin", 0.0)), right, out.confidence)
        )
    params: dict[str, tuple[float, float]] = {}
    brier_before = brier_after = 0.0
    total = 0
    for g, rows in groups.items():
        m = np.array([[r[0]] for r in rows])
        y = np.array([r[1] for r in rows])
        before = np.array([r[2] for r in rows])
        if len(set(y.tolist())) < 2:
            # every verdict in the group was right (or wrong): shrink toward the rate seen,
            # with a Laplace-smoothed constant so confidence never claims certainty.
            rate = (y.sum() + 1) / (len(y) + 2)
            params[g] = (0.0, math.log(rate / (1 - rate)))
        else:
            lr = LogisticRegression(C=10.0).fit(m, y)
            params[g] = (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
        a, b = params[g]
        after = 1 / (1 + np.exp(-(a * m[:, 0] + b)))
        brier_before += float(((before - y) ** 2).sum())
        brier_after += float(((after - y) ** 2).sum())
        total += len(y)
    db.set_meta("platt", json.dumps(params))
    return {
        "params": params,
        "cases": total,
        "brier_before": brier_before / max(total, 1),
        "brier_after": brier_after / max(total, 1),
    }
