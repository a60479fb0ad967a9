"""Grounding: attribute each sentence of an answer to corpus passages that support it.

1. The corpus (a folder of ``.txt``/``.md`` files, a JSONL file with a ``text`` field, a list
   of strings or a ``{name: text}`` mapping) is cut into passages of up to three consecutive
   sentences (:func:`probity.text.sentence_spans`), stride one sentence.
2. Retrieval is Okapi BM25 (k1 = 1.5, b = 0.75) over :func:`probity.text.words`, computed as
   one sparse passage x term weight matrix so scoring a sentence is a column sum.
3. Each of the top ``k`` passages gets a support score in [0, 1]:
   *overlap*: ``0.5 * unigram recall + 0.5 * bigram recall`` of the sentence's content words
   in the passage, times 0.5 when the sentence has a number the passage lacks (numbers are
   where grounded-looking answers go wrong); or, when an NLI model is given, the model's
   entailment probability with the passage as premise and the sentence as hypothesis. Only the
   passage is truncated to fit the model (``truncation="only_first"``): the claim never is.
   A sentence whose entities and numbers (two or more) the passage all states, with unigram
   recall >= 0.6, scores at least ``0.5 * unigram recall + 0.5`` (a faithful paraphrase keeps
   the facts, not the word pairs).
4. ``contradicted`` when a claim of the sentence (clauses split at ``;``, ``, and``, ``but``)
   names an entity, number or date that a passage about the same subject states otherwise
   (:mod:`probity.citations._contradict`); this is checked before support, with or without NLI;
   ``supported`` when the best support >= ``threshold`` (default 0.6 overlap, 0.5 NLI);
   ``no_evidence`` when no passage shares even 20% of the sentence's content words;
   ``unsupported`` otherwise (related passages exist, but none supports the sentence).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from probity.errors import InputError
from probity.text import sentence_spans, words
from probity.types import Span

from ._contradict import claims, contradiction, entity_coverage, subject_of
from ._types import GroundingResult, Passage, SentenceGrounding

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "and",
        "or",
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
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "how",
        "than",
        "then",
        "also",
        "not",
        "no",
        "but",
        "if",
        "so",
        "such",
        "can",
        "may",
        "might",
        "will",
        "would",
        "should",
        "could",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "into",
        "over",
        "under",
        "about",
        "between",
        "they",
        "them",
        "their",
        "there",
        "here",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "i",
        "me",
        "my",
    ]
)
_NUM = re.compile(r"\d+(?:[.,]\d+)?")
Corpus = str | os.PathLike[str] | Sequence[str] | Mapping[str, str]


def load_corpus(corpus: Corpus) -> dict[str, str]:
    """Documents ``{name: text}`` from a folder, a JSONL file, a list or a mapping."""
    if isinstance(corpus, Mapping):
        return {str(k): str(v) for k, v in corpus.items()}
    if isinstance(corpus, str | os.PathLike):
        p = Path(corpus)
        if p.is_dir():
            docs = {}
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in (".txt", ".md", ".markdown", ".rst"):
                    docs[str(f.relative_to(p))] = f.read_text(encoding="utf-8", errors="replace")
            if not docs:
                raise InputError(f"no .txt or .md files in {p}")
            return docs
        if p.is_file():
            from probity.io import iter_jsonl, read_text

            if p.suffix.lower() in (".jsonl", ".gz", ".zst") or p.name.endswith(".jsonl.gz"):
                docs = {}
                for lineno, obj in iter_jsonl(p):
                    text = obj.get("text") or obj.get("content") or ""
                    docs[str(obj.get("id", f"{p.name}:{lineno}"))] = str(text)
                return docs
            return {p.name: read_text(p)}
        raise InputError(
            f"corpus {p} does not exist",
            hint="give a folder of .txt/.md files or a JSONL file with a 'text' field",
        )
    return {f"doc{i}": str(t) for i, t in enumerate(corpus)}


def _content(text: str) -> list[str]:
    return [w for w in words(text) if w not in _STOP]


class PassageIndex:
    """BM25 index over sentence windows of a corpus."""

    def __init__(
        self, docs: Mapping[str, str], *, window: int = 3, k1: float = 1.5, b: float = 0.75
    ) -> None:
        from scipy import sparse

        self.passages: list[tuple[str, int, int]] = []
        texts: list[str] = []
        for name, text in docs.items():
            spans = sentence_spans(text)
            for i in range(len(spans)):
                a, e = spans[i][0], spans[min(i + window, len(spans)) - 1][1]
                self.passages.append((name, a, e))
                texts.append(text[a:e])
                if i + window >= len(spans):
                    break
        self.docs = dict(docs)
        self.vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float64)
        for r, t in enumerate(texts):
            toks = _content(t)
            lengths[r] = len(toks)
            ids, counts = (
                np.unique(
                    [self.vocab.setdefault(w, len(self.vocab)) for w in toks], return_counts=True
                )
                if toks
                else (np.array([]), np.array([]))
            )
            rows.extend([r] * len(ids))
            cols.extend(ids.tolist())
            vals.extend(counts.tolist())
        n = max(len(texts), 1)
        tf = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)),
            shape=(len(texts), max(len(self.vocab), 1)),
        )
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=tf.shape[1])
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        avg = lengths.mean() if len(lengths) else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        tf = tf.tocoo()
        w = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * idf[tf.col]
        self.weights = sparse.csc_matrix((w, (tf.row, tf.col)), shape=tf.shape)
        self.texts = texts

    def search(self, query: str, k: int = 5) -> list[tuple[int, float]]:
        ids = sorted({self.vocab[w] for w in _content(query) if w in self.vocab})
        if not ids or not self.texts:
            return []
        scores = np.asarray(self.weights[:, ids].sum(axis=1)).ravel()
        top = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def overlap_support(sentence: str, passage: str) -> tuple[float, float]:
    """``(support, unigram recall)`` of a sentence in a passage (see the module docstring)."""
    s, p = _content(sentence), _content(passage)
    if not s:
        return 0.0, 0.0
    ps = set(p)
    uni = sum(1 for w in s if w in ps) / len(s)
    sb = list(itertools.pairwise(s))
    pb = set(itertools.pairwise(p))
    bi = sum(1 for x in sb if x in pb) / len(sb) if sb else uni
    support = 0.5 * uni + 0.5 * bi
    cover = entity_coverage(sentence, passage)
    if cover is not None and cover[0] == 1.0 and cover[1] >= 2 and uni >= 0.6:
        # a paraphrase keeps the facts (every entity and number, at least two) and most
        # words, but not the word pairs
        support = max(support, 0.5 * uni + 0.5)
    nums_s = set(_NUM.findall(sentence))
    if nums_s and not nums_s <= set(_NUM.findall(passage)):
        support *= 0.5
    return support, uni


class _NLI:
    def __init__(self, model: str) -> None:
        from probity.errors import ModelError, require

        require("transformers", "hf")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tok = AutoTokenizer.from_pretrained(model, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                model, local_files_only=True
            ).eval()
        except OSError as exc:
            raise ModelError(
                f"cannot load NLI model {model!r} offline ({exc})",
                hint="give a local folder saved with save_pretrained",
            ) from exc
        labels = {v.lower(): int(k) for k, v in self.model.config.id2label.items()}
        ent = [i for name, i in labels.items() if name.startswith("entail")]
        if not ent:
            raise ModelError(f"NLI model {model!r} has no 'entailment' label ({labels})")
        self.ent = ent[0]
        self.torch = torch

    def entail(self, premises: list[str], hypothesis: str) -> list[float] | None:
        """Entailment probabilities, or None when the claim alone does not fit the model
        (the claim is never truncated; the caller falls back to overlap)."""
        cfg = self.model.config
        limit = min(
            512,
            getattr(cfg, "max_position_embeddings", None)
            or getattr(cfg, "n_positions", None)
            or 512,
            getattr(self.tok, "model_max_length", 512) or 512,
        )
        try:
            enc = self.tok(
                premises,
                [hypothesis] * len(premises),
                truncation="only_first",
                padding=True,
                return_tensors="pt",
                max_length=limit,
            )
        except (ValueError, RuntimeError):  # the hypothesis alone is too long
            return None
        if enc["input_ids"].shape[1] > limit:
            return None
        with self.torch.no_grad():
            probs = self.model(**enc).logits.softmax(-1)[:, self.ent]
        return probs.tolist()


def _contradicted(sentence: str, passages: list[Passage]) -> tuple[str | None, Passage | None]:
    """The first contradiction between a claim of ``sentence`` and a passage about its subject."""
    subject = subject_of(sentence)
    for claim in claims(sentence):
        for p in passages:
            why = contradiction(claim, p.text, subject)
            if why is not None:
                return why, p
    return None, None


def ground(
    answer: str,
    corpus: Corpus | PassageIndex,
    *,
    k: int = 5,
    threshold: float | None = None,
    nli_model: str | None = None,
) -> GroundingResult:
    """Split ``answer`` into sentences and attribute each to corpus passages.

    Returns per-sentence ``supported`` / ``unsupported`` / ``no_evidence`` with the sentence's
    span in ``answer``, its ``support`` in [0, 1] and the top passages (doc name, character
    range in that doc, BM25 score).
    """
    if not answer or not answer.strip():
        raise InputError("the answer to ground is empty")
    index = corpus if isinstance(corpus, PassageIndex) else PassageIndex(load_corpus(corpus))
    nli = _NLI(nli_model) if nli_model else None
    thr = threshold if threshold is not None else (0.5 if nli else 0.6)
    out: list[SentenceGrounding] = []
    for a, e in sentence_spans(answer):
        sent = answer[a:e]
        hits = index.search(sent, k)
        passages = [
            Passage(
                index.passages[i][0], index.passages[i][1], index.passages[i][2], index.texts[i], s
            )
            for i, s in hits
        ]
        scored = [overlap_support(sent, p.text) for p in passages]
        best_uni = max((u for _, u in scored), default=0.0)
        supports = [s for s, _ in scored]
        if nli and passages:
            probs = nli.entail([p.text for p in passages], sent)
            if probs is not None:
                supports = probs
        if not _content(sent):
            continue  # no content words ("Sure!", "Here you go:"): nothing to ground
        why, against = _contradicted(sent, passages)
        order = np.argsort(-np.asarray(supports)) if supports else []
        passages = [passages[i] for i in order][:3]
        best = float(max(supports, default=0.0))
        if why is not None and against is not None:
            out.append(
                SentenceGrounding(
                    Span(a, e, "contradicted", best), sent, "contradicted", best, (against,), why
                )
            )
            continue
        if best >= thr:
            status = "supported"
        elif best_uni < 0.2:
            status = "no_evidence"
        else:
            status = "unsupported"
        out.append(SentenceGrounding(Span(a, e, status, best), sent, status, best, tuple(passages)))
    frac = sum(s.status == "supported" for s in out) / len(out) if out else 0.0
    return GroundingResult(tuple(out), "nli" if nli else "overlap", frac)
