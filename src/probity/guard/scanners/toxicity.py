"""``toxicity``: offensive, abusive or hateful language.

Three back ends:

- ``profanity-check`` (default): the linear SVM ensemble shipped with alt-profanity-check
  (TF-IDF over words, five calibrated LinearSVCs). We evaluate it ourselves from its weights:
  for a text with TF-IDF vector x (l2-normalised), each member k gives
  d_k = w_k . x + c_k and p_k = 1 / (1 + exp(a_k d_k + b_k)) (Platt scaling); the score is
  mean_k p_k. This is the same number as ``profanity_check.predict_prob`` (tested), computed
  with a dictionary lookup and a few numpy ops instead of sklearn's per-call validation, which
  is most of the library's cost on short texts.
- a local transformers text-classification model: ``model: /path/to/folder``.
- an LLM judge: ``judge: <model path or name>`` (plus ``base_url`` for an OpenAI-compatible
  server) or ``generator=`` a :class:`~probity.lm.TextGenerator` in Python. The judge gets a
  Llama-Guard-style prompt and must answer ``safe`` or ``unsafe`` and a line of categories
  (``S1,S10``); :func:`parse_guard_verdict` reads it. ``judge_format: shieldgemma`` uses
  ShieldGemma's prompt (answer ``Yes``/``No`` first; :func:`parse_yes_no`).

Before the classifier (both local back ends) each text and segment is de-obfuscated
(:mod:`._obfuscation`: homoglyphs, spacing, leet, masks, repeats, swaps, run-together words)
and checked by the rules of :mod:`._abuse`: a threat, a second-person insult or a group
dehumanised is *direct* abuse (score 0.92-0.95, ``details["direct"]`` names the kind, and no
context label but a reported quotation or a benign sense may soften it); negated insults are
removed before scoring (counter-speech), profanity with no target is capped at 0.5 and a
condemnation of abuse at 0.4. Text without direct abuse is also checked by the harm rules
of :mod:`._harm` (explicit sexual content 0.75, first-person self-harm, violent intent against
a third person and eliminationist hate 0.8; ``details["category"]``), which a profanity model
misses because the words are polite. The score is max(rule score, adjusted classifier score).

Localisation: with the classifier back ends a text is scored whole and per segment (its
sentences, cut at labelled regions; see :mod:`probity.guard.context`); a segment of fewer
than four words counts only with rule evidence, and a segment without direct abuse is scored
between its own score and the whole text's, by its share of the text (never above its own).
A toxic
segment is a finding with that segment's span, so a policy's context rules can treat a toxic
labelled quotation differently from a toxic sentence of the model's own. When the whole text
scores at or above ``min_score`` but no segment does, the finding spans the whole text.
All texts and segments of a batch are scored in one call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from probity.errors import ConfigError, ModelError
from probity.guard.base import ScanContext, register_scanner
from probity.guard.context import covering, labelled_regions, segments
from probity.guard.scanners._abuse import (
    classifier_text,
    counter_speech,
    evidence,
    untargeted_profanity,
)
from probity.guard.scanners._harm import harm_evidence
from probity.guard.scanners._obfuscation import deobfuscate
from probity.types import Finding, Span

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


class ProfanityModel:
    """alt-profanity-check's shipped model, evaluated directly from its weights."""

    def __init__(self) -> None:
        from profanity_check import profanity_check as pc  # loads the shipped joblib files

        vec, model = pc.vectorizer, pc.model
        self._pc = pc
        self.fast = (
            vec.get_params().get("ngram_range") == (1, 1)
            and vec.lowercase
            and vec.get_params().get("analyzer") == "word"
            and vec.norm == "l2"
            and not vec.sublinear_tf
            and vec.token_pattern == _TOKEN.pattern
            and all(getattr(c, "method", "") == "sigmoid" for c in model.calibrated_classifiers_)
        )
        if self.fast:
            self.vocab: dict[str, int] = vec.vocabulary_
            self.idf = np.asarray(vec.idf_, dtype=np.float64)
            cc = model.calibrated_classifiers_
            self.W = np.stack([c.estimator.coef_.ravel() for c in cc], axis=1)  # (V, K)
            self.c = np.array([float(c.estimator.intercept_[0]) for c in cc])
            self.a = np.array([float(c.calibrators[0].a_) for c in cc])
            self.b = np.array([float(c.calibrators[0].b_) for c in cc])
        try:
            from importlib.metadata import version

            self.version = f"alt-profanity-check {version('alt-profanity-check')}"
        except Exception:  # pragma: no cover
            self.version = "alt-profanity-check"

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Probability in [0, 1] that each text is offensive."""
        if not texts:
            return np.zeros(0)
        if not self.fast:
            return np.asarray(self._pc.predict_prob(list(texts)), dtype=np.float64)
        rows: list[np.ndarray] = []
        lens = np.zeros(len(texts), dtype=np.int64)
        get = self.vocab.get
        for i, t in enumerate(texts):
            ids = [j for j in map(get, _TOKEN.findall(t.lower())) if j is not None]
            rows.append(np.asarray(ids, dtype=np.int64))
            lens[i] = len(ids)
        d = np.tile(self.c, (len(texts), 1))
        if len(texts) > 8 and lens.sum():
            # Batch: one sparse count matrix (duplicates summed), tf-idf, l2 rows, one product.
            from scipy.sparse import csr_matrix

            cols = np.concatenate(rows)
            indptr = np.concatenate([[0], np.cumsum(lens)])
            x = csr_matrix((self.idf[cols], cols, indptr), shape=(len(texts), len(self.idf)))
            x.sum_duplicates()
            norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
            norms[norms == 0] = 1.0
            d += (x @ self.W) / norms[:, None]
        elif lens.sum():
            # Per text: unique term ids u with counts n; tf-idf = n * idf[u], l2-normalised.
            for i, ids in enumerate(rows):
                if len(ids) == 0:
                    continue
                u, n = np.unique(ids, return_counts=True)
                x = n * self.idf[u]
                x /= np.sqrt(x @ x)
                d[i] += x @ self.W[u]
        p = 1.0 / (1.0 + np.exp(self.a * d + self.b))
        return p.mean(axis=1)


_MODELS: dict[str, Any] = {}


def _profanity() -> ProfanityModel:
    if "pc" not in _MODELS:
        _MODELS["pc"] = ProfanityModel()
    return _MODELS["pc"]


GUARD_CATEGORIES: dict[str, str] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex Crimes",
    "S4": "Child Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}


def judge_prompt(text: str, direction: str = "input") -> str:
    """A Llama-Guard-style classification prompt for ``text``."""
    role = "User" if direction == "input" else "Agent"
    cats = "\n".join(f"{k}: {v}." for k, v in GUARD_CATEGORIES.items())
    return (
        f"Task: Check if there is unsafe content in '{role}' messages in conversations "
        "according to our safety policy with the below categories.\n\n"
        f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{cats}\n<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{role}: {text}\n\n<END CONVERSATION>\n\n"
        f"Provide your safety assessment for ONLY THE LAST {role} message in the above "
        "conversation:\n - First line must read 'safe' or 'unsafe'.\n - If unsafe, a second "
        "line must include a comma-separated list of violated categories."
    )


SHIELDGEMMA_POLICY = (
    '"No Harassment": The prompt shall not contain or seek generation of content that is '
    "malicious, intimidating, bullying, or abusive content targeting another individual.\n"
    '* "No Hate Speech": The prompt shall not contain or seek generation of content that '
    "targets identity and/or protected attributes, dehumanises or incites hatred.\n"
    '* "No Dangerous Content": The prompt shall not contain or seek generation of content '
    "that harms oneself and/or others."
)


def shieldgemma_prompt(text: str, direction: str = "input") -> str:
    """A ShieldGemma-style prompt for ``text``: the model answers ``Yes`` (violates) or
    ``No`` first (read with :func:`parse_yes_no`)."""
    who = "Human Question" if direction == "input" else "Chatbot Response"
    return (
        "You are a policy expert trying to help determine whether a "
        f"{'user prompt' if direction == 'input' else 'chatbot response'} is in violation of "
        "the defined safety policies.\n\n<start_of_turn>\n"
        f"{who}: {text.strip()}\n<end_of_turn>\n\n"
        f"Our safety principle is defined in the below:\n\n* {SHIELDGEMMA_POLICY}\n\n"
        f"Does the {who.lower()} violate the above principle? Your answer must start with "
        "'Yes' or 'No'. And then walk through step by step to be sure we answer correctly.\n"
    )


def parse_yes_no(answer: str) -> tuple[bool | None, list[str]]:
    """Parse a ShieldGemma-style answer: ``Yes`` -> unsafe, ``No`` -> safe, else None."""
    head = answer.strip().lower().lstrip("*'\" ")
    if head.startswith("yes"):
        return True, []
    if head.startswith("no"):
        return False, []
    return None, []


def parse_guard_verdict(answer: str) -> tuple[bool | None, list[str]]:
    """Parse a Llama-Guard-style answer: ``(unsafe, categories)``; ``unsafe`` is None when the
    answer is neither ``safe`` nor ``unsafe`` (the scanner then reports ``judge_unparsed``)."""
    lines = [ln.strip() for ln in answer.strip().splitlines() if ln.strip()]
    if not lines:
        return None, []
    head = lines[0].lower().strip(" .:'\"")
    if head.startswith("unsafe"):
        rest = " ".join([lines[0][6:], *lines[1:2]])
        cats = re.findall(r"\bS\d{1,2}\b", rest.upper())
        return True, cats
    if head.startswith("safe"):
        return False, []
    return None, []


@register_scanner("toxicity")
class ToxicityScanner:
    """Toxic language. ``model``: ``profanity-check`` (default) or a local classifier folder;
    ``judge``/``base_url``/``generator``: LLM-judge mode; ``min_score``: the lowest score
    reported (policies then apply their own threshold); ``localise``: score segments too."""

    name = "toxicity"

    def __init__(
        self,
        model: str = "profanity-check",
        judge: str | None = None,
        base_url: str | None = None,
        generator: Any = None,
        min_score: float = 0.3,
        localise: bool = True,
        positive: Sequence[str] | None = None,
        max_new_tokens: int = 16,
        judge_format: str = "llama-guard",
    ) -> None:
        if judge_format not in ("llama-guard", "shieldgemma"):
            raise ConfigError(
                f"toxicity: unknown judge_format {judge_format!r}; "
                "expected 'llama-guard' or 'shieldgemma'"
            )
        self.judge_format = judge_format
        self.min_score = float(min_score)
        self.localise = bool(localise)
        self.generator = generator
        self.max_new_tokens = int(max_new_tokens)
        self._clf: Any = None
        if generator is None and (judge or base_url):
            from probity.lm.select import open_generator

            self.generator = open_generator(judge, base_url=base_url)
        if self.generator is not None:
            self.version = f"judge:{getattr(self.generator, 'name', 'generator')}"
            if self.judge_format != "llama-guard":
                self.version += f"/{self.judge_format}"
        elif model in ("profanity-check", "default", "alt-profanity-check"):
            self._clf = _profanity()
            self.version = self._clf.version + "+rules-2"
        else:
            from probity.guard.scanners._hf import LocalClassifier

            self._clf = LocalClassifier(model, positive)
            self.version = self._clf.version + "+rules-2"

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        if self.generator is not None:
            return self._judge(texts, context)
        # One scoring call for every text and every segment of the batch.
        items: list[str] = list(texts)
        owners: list[tuple[int, int, int]] = []  # (text index, start, end) per segment
        labelled: list[bool] = []  # whether the segment lies in a labelled region
        if self.localise:
            for i, t in enumerate(texts):
                regions = labelled_regions(t, benign_senses=True, mentions=True)
                segs = segments(t, regions)
                if len(segs) > 1:
                    labelled.extend(covering(segs, regions))
                    for a, b in segs:
                        items.append(t[a:b])
                        owners.append((i, a, b))
        scores, direct = self._score(items)
        n = len(texts)
        out: list[list[Finding]] = [[] for _ in texts]
        for k, (i, a, b) in enumerate(owners):
            s = float(scores[n + k])
            if not direct[n + k] and not labelled[k] and len(texts[i][a:b].split()) < 4:
                continue  # a bag-of-words score of two or three words is noise ("You are white.")
            if "direct" not in direct[n + k]:
                # Without rule evidence of direct abuse, a segment's score is pulled towards the
                # whole text's by its share of the text (weight sqrt(len(segment)/len(text))),
                # never up: one crude sentence in a long, otherwise benign text is weak
                # evidence, and scoring it alone was most of the policy's false positives on
                # the moderation set's calibration half. Direct abuse is never diluted.
                w = ((b - a) / max(1, len(texts[i]))) ** 0.5
                s = min(s, w * s + (1.0 - w) * float(scores[i]))
            if s >= self.min_score:
                out[i].append(
                    Finding(
                        self.name,
                        "toxicity",
                        s,
                        (Span(a, b, "toxicity", s),),
                        f"toxic language (score {s:.2f})",
                        details={"segment": True, **direct[n + k]},
                    )
                )
        for i, t in enumerate(texts):
            s = float(scores[i])
            best = max((f.score for f in out[i]), default=0.0)
            if s >= self.min_score and s > best:
                # The whole text is more toxic than any one segment: report it as a whole.
                out[i].append(
                    Finding(
                        self.name,
                        "toxicity",
                        s,
                        (Span(0, len(t), "toxicity", s),),
                        f"toxic language (score {s:.2f})",
                        details=direct[i],
                    )
                )
        return out

    def _score(self, items: list[str]) -> tuple[np.ndarray, list[dict[str, str]]]:
        """Scores in [0, 1] for ``items`` and, for each, ``{"direct": kind}`` when a rule of
        :mod:`._abuse` found direct abuse (else ``{}``)."""
        norms = [deobfuscate(t) for t in items]
        raw = np.asarray(self._clf.predict([classifier_text(x) for x in norms]), dtype=float)
        scores = raw.copy()
        direct: list[dict[str, str]] = []
        for k, x in enumerate(norms):
            rule, kind = evidence(x)
            extra: dict[str, str] = {"direct": kind} if kind else {}
            if kind is None:
                if untargeted_profanity(x):
                    scores[k] = min(scores[k], 0.5)
                if counter_speech(x):
                    scores[k] = min(scores[k], 0.4)
                rule, category = harm_evidence(x)
                if category:
                    extra = {"category": category}
            scores[k] = max(scores[k], rule)
            direct.append(extra)
        return scores, direct

    def _judge(self, texts: Sequence[str], context: ScanContext | None) -> list[list[Finding]]:
        from probity.lm import GenerationParams

        direction = context.direction if context else "input"
        make, parse = (
            (shieldgemma_prompt, parse_yes_no)
            if self.judge_format == "shieldgemma"
            else (judge_prompt, parse_guard_verdict)
        )
        prompts = [make(t, direction) for t in texts]
        params = GenerationParams(max_new_tokens=self.max_new_tokens, temperature=0.0)
        try:
            comps = self.generator.generate(prompts, params)
        except Exception as exc:
            if isinstance(exc, ModelError):
                raise
            raise ModelError(f"toxicity judge failed: {exc}") from exc
        by_prompt: dict[int, str] = {}
        for c in comps:
            by_prompt.setdefault(c.prompt_index, c.text)
        out: list[list[Finding]] = []
        for i, t in enumerate(texts):
            unsafe, cats = parse(by_prompt.get(i, ""))
            whole = (Span(0, len(t), "toxicity"),)
            if unsafe is None:
                out.append(
                    [
                        Finding(
                            self.name,
                            "judge_unparsed",
                            0.5,
                            whole,
                            "the judge's answer was not safe/unsafe (Yes/No): "
                            f"{by_prompt.get(i, '')[:80]!r}",
                        )
                    ]
                )
            elif unsafe:
                names = [GUARD_CATEGORIES.get(c, c) for c in cats] or ["unsafe"]
                out.append(
                    [
                        Finding(
                            self.name,
                            cats[0] if cats else "unsafe",
                            1.0,
                            whole,
                            "judge: unsafe (" + ", ".join(names) + ")",
                            details={"categories": cats},
                        )
                    ]
                )
            else:
                out.append([])
        return out
