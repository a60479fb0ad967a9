"""Overlap on real material nobody here wrote: code clones of standard-library functions vs
copydetect, quote recall under evasion, and the verbatim span length curve.

Run: python bench/overlap_real.py [--seeds 5] [--write]

* code: protected = 30 real functions (``tests/overlap/clone_corpus.py``), queries renamed and
  re-printed by ``ast.unparse``, with two adjacent independent statements swapped, or pasted
  between two other real functions; negatives = renamed functions of other modules. Probity
  with its defaults (syntax-tree tokens, k=10, w=6, containment 0.5 or a 50-token span) and
  copydetect 0.5 (noise 25, guarantee 30, its 0.33 display threshold) on the same files in the
  same run; a clone counts when the right source is reported, a negative when anything is.
* quotes: 40 pages of the Python reference manual (``pydoc_data.topics``) indexed with the
  defaults; 15-30-word sentences quoted plain, with zero-width spaces, soft hyphens, Cyrillic
  look-alikes, and 40-word passages with one word changed.
* n curve: recall of quotes by length and false positives on sentences of pages not indexed.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "overlap"))  # the clone and quote generators

from clone_corpus import clone_sets  # noqa: E402
from test_blackbox_quotes import (  # noqa: E402
    _confusable,
    _prose,
    _soft_hyphen,
    _zero_width,
    one_word_changed,
)

ROWS: list[str] = []


def row(case: str, ours: object, peer: object, ratio: object) -> None:
    line = f"| {case} | {ours} | {peer} | {ratio} |"
    ROWS.append(line)
    print(line, flush=True)


def cpu() -> float:
    return time.process_time()


def bench_code(seeds: list[int]) -> None:
    from copydetect import CodeFingerprint, compare_files

    from probity.overlap.code import CodeIndex

    totals: dict[str, list[float]] = {}
    t_ours = t_peer = 0.0
    for seed in seeds:
        prot, sets = clone_sets(seed=seed)
        t = cpu()
        idx = CodeIndex.build(prot)
        t_ours += cpu() - t
        t = cpu()
        fps = [
            (fid, CodeFingerprint("x.py", 25, 6, fp=io.StringIO(src), language="python"))
            for fid, src in prot
        ]
        t_peer += cpu() - t
        for name, qs in sets.items():
            o = p = 0
            for fid, q in qs:
                t = cpu()
                ours = {m.doc for m in idx.query(q)}
                t_ours += cpu() - t
                t = cpu()
                qf = CodeFingerprint("q.py", 25, 6, fp=io.StringIO(q), language="python")
                peer = {f for f, fp in fps if max(compare_files(qf, fp)[1]) >= 0.33}
                t_peer += cpu() - t
                if name == "negative":
                    o += bool(ours)
                    p += bool(peer)
                else:
                    o += fid in ours
                    p += fid in peer
            tot = totals.setdefault(name, [0, 0, 0])
            tot[0] += o
            tot[1] += p
            tot[2] += len(qs)
    for name, (o, p, n) in totals.items():
        ro, rp = o / n, p / n
        if name == "negative":
            row(
                f"code, real stdlib: false positive rate ({n} negatives)",
                f"{ro:.3f}",
                f"{rp:.3f}",
                "-" if ro == 0 else f"{rp / ro:.2f}x",
            )
        else:
            row(
                f"code, real stdlib: recall, {name} ({n} clones)",
                f"{ro:.3f}",
                f"{rp:.3f}",
                f"{ro / rp:.2f}x" if rp else "inf",
            )
    row(
        "code, real stdlib: CPU seconds, index + all queries",
        f"{t_ours:.2f}",
        f"{t_peer:.2f}",
        f"{t_peer / t_ours:.1f}x",
    )


def _index(name: str, docs, n: int | None):
    from probity.overlap import OverlapIndex

    return OverlapIndex.build(name, docs, overwrite=True, ngram=n)


def bench_quotes() -> None:
    docs = _prose()
    idx = _index("manual", docs, None)
    rng = random.Random(3)
    quotes = _all_sentences(docs, 15, 30)
    rng.shuffle(quotes)
    quotes = quotes[:200]
    for label, fn in [
        ("plain", lambda s, r: s),
        ("zero-width", _zero_width),
        ("soft hyphen", _soft_hyphen),
        ("Cyrillic look-alikes", _confusable),
    ]:
        hit = 0
        for did, s in quotes:
            rep = idx.check("My answer: " + fn(s, rng) + " Done.")
            hit += any(did in v.docs for v in rep.verbatim)
        row(
            f"quotes, default n={idx.params['ngram']}: recall, {label} ({len(quotes)})",
            f"{hit / len(quotes):.3f}",
            "-",
            "-",
        )
    changed = one_word_changed(docs)
    hit = sum(any(did in v.docs for v in idx.check(q).verbatim) for did, q in changed)
    total = len(changed)
    row(f"quotes: recall, 40 words with one changed ({total})", f"{hit / total:.3f}", "-", "-")


def _all_sentences(docs, lo: int, hi: int) -> list[tuple[str, str]]:
    """Every sentence of ``lo``-``hi`` plain words, with its document."""
    out = []
    for did, text in docs:
        for sent in re.split(r"(?<=[.!?])\s+", text):
            w = sent.split()
            if lo <= len(w) <= hi and all(re.fullmatch(r"[A-Za-z,;:'()\-]+\.?", t) for t in w):
                out.append((did, " ".join(w)))
    return out


def _docstring_sentences() -> list[str]:
    """Sentences of standard-library module docstrings: real prose that is not in the manual."""
    import importlib
    import pkgutil

    docs = []
    for m in sorted(pkgutil.iter_modules(), key=lambda m: m.name)[:400]:
        if m.name.startswith("_") or m.name in ("antigravity", "this"):
            continue
        try:
            doc = importlib.import_module(m.name).__doc__ or ""
        except Exception:
            continue
        docs.append((m.name, " ".join(doc.split())))
    return [s for _, s in _all_sentences(docs, 8, 40)]


def bench_curve() -> None:
    docs = _prose()
    rng = random.Random(9)
    picks = _all_sentences(docs, 6, 40)
    rng.shuffle(picks)
    picks = picks[:600]
    negatives = _docstring_sentences()[:600]
    for n in (6, 8, 10, 12, 16, 20, 30, 50):
        idx = _index(f"curve{n}", docs, n)
        by_len: dict[str, list[int]] = {
            "6-11": [0, 0],
            "12-19": [0, 0],
            "20-29": [0, 0],
            "30-40": [0, 0],
        }
        for did, s in picks:
            k = len(s.split())
            b = "6-11" if k < 12 else "12-19" if k < 20 else "20-29" if k < 30 else "30-40"
            by_len[b][1] += 1
            by_len[b][0] += any(did in v.docs for v in idx.check(s).verbatim)
        fp = sum(bool(idx.check(s).verbatim) for s in negatives)
        rec = ", ".join(f"{b}: {h / t:.2f} of {t}" for b, (h, t) in by_len.items() if t)
        row(
            f"span n={n}: quote recall by words ({rec}); false positives on "
            f"{len(negatives)} unseen docstring sentences",
            f"{fp / len(negatives):.3f}",
            "-",
            "-",
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="clone sets (30 functions each)")
    ap.add_argument("--write", action="store_true", help="write bench/results/overlap_real.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["PROBITY_HOME"] = home
        print("| case | Probity | copydetect 0.5 | ratio |\n|---|---|---|---|")
        bench_code(list(range(5, 5 + args.seeds)))
        bench_quotes()
        bench_curve()
    if args.write:
        out = ROOT / "bench" / "results" / "overlap_real.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(
            "| case | Probity | copydetect 0.5 | ratio |\n|---|---|---|---|\n"
            + "\n".join(ROWS)
            + "\n"
        )


if __name__ == "__main__":
    main()
