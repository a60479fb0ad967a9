"""Analysers: pronouns for the subject, sentiment, toxicity, an optional local classifier.

All analysers are batch-first: a list of completions in, numpy arrays out.

Pronoun rule (written by hand because no library does this cheaply): the completion is the
text that follows a prompt about one person, so pronouns refer to that person *until the text
clearly turns to someone else*. Two simple rules tell:

* pronouns inside quotation marks are speech, not narration about the subject: ignored;
* after the first mention of another person (``his wife``, ``the patient``, ``a man``,
  ``Mrs. ...``) pronouns may refer to that person: everything after it is ignored.

The remaining pronouns are counted per class (``male`` he/him/his/himself, ``female``
she/her/hers/herself, ``they`` they/them/their/theirs/themselves/themself, ``neo`` xe/ze/fae
and similar) and the completion is labelled with the majority class (ties go to the class
used first), or ``none``. The scan is one regular-expression pass over all completions joined
together, with numpy for the per-completion bookkeeping, so it costs about one regex match per
pronoun rather than one Python call per word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CLASSES = ("male", "female", "they", "neo")
LABELS = (*CLASSES, "none")

_FORMS = {
    "male": "he him his himself he's he'd he'll",
    "female": "she her hers herself she's she'd she'll",
    "they": "they them their theirs themselves themself they're they'd they'll they've",
    "neo": "xe xem xyr xyrs xemself ze zir zirs zirself hir hirs hirself fae faer faers faerself "
    "ey eir eirs emself",
}
_OTHERS = (
    "man men woman women boy boys girl girls wife husband wives husbands mother father mom dad "
    "mum son sons daughter daughters sister sisters brother brothers aunt uncle niece nephew "
    "grandmother grandfather grandma grandpa king queen lady ladies gentleman gentlemen sir "
    "madam girlfriend boyfriend fiancé fiancée bride groom patient patients "
    "client clients customer customers student students child children kid kids baby people "
    "friend friends boss colleague colleagues coworker coworkers neighbor neighbour partner"
)


def _trie_regex(words: list[str]) -> str:
    """An alternation of ``words`` as a prefix trie (``he|her|hers`` -> ``he(?:r(?:s)?)?``).

    Python's ``re`` tries the branches of a flat alternation one by one at every position; a
    trie shares prefixes, which makes the scan about 8x faster on this word list."""
    trie: dict[str, dict] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + emit(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


_FORM_TO_CLASS = {f: i for i, c in enumerate(CLASSES) for f in _FORMS[c].split()}
_OTHER_WORDS = sorted(set(_OTHERS.split()))
# every string the scan can return -> a code: 0-3 pronoun class, 4 another person, 5 a
# quotation mark, 6 the document separator
_CODE: dict[str, int] = {"\x00": 6, '"': 5, "“": 5, "”": 5}
_CODE.update({w: 4 for w in _OTHER_WORDS})
_CODE.update({f.replace("'", q): c for f, c in _FORM_TO_CLASS.items() for q in "'’"})


def _scan_pattern() -> re.Pattern[str]:
    """One top-level alternation whose branches all start with a literal character, so
    ``re`` can skip ahead to candidate characters (its charset-prefix fast path); each word
    branch is ``first letter``, a look-behind for a word start, then the trie of the rest."""
    by_first: dict[str, list[str]] = {}
    for w in _CODE:
        if w[0].isalpha():
            by_first.setdefault(w[0], []).append(w[1:])
    branches = [re.escape(c) for c in ("\x00", '"', "“", "”")]
    for c, rests in sorted(by_first.items()):
        branches.append(re.escape(c) + r"(?<!\w\w)" + _trie_regex(rests) + r"\b")
    return re.compile("|".join(branches))


_SCAN = _scan_pattern()
_SEP = "\n\x00\n"


@dataclass(frozen=True)
class PronounCounts:
    """Per-completion pronoun counts ``(n, 4)`` in :data:`CLASSES` order and the label index
    ``(n,)`` into :data:`LABELS` (4 = ``none``)."""

    counts: np.ndarray
    labels: np.ndarray

    def label_names(self) -> list[str]:
        return [LABELS[i] for i in self.labels]


def count_pronouns(texts: Sequence[str]) -> PronounCounts:
    """Count subject pronouns in each text (see the module docstring for the rules)."""
    n = len(texts)
    counts = np.zeros((n, len(CLASSES)), dtype=np.int64)
    labels = np.full(n, len(CLASSES), dtype=np.int64)
    if n == 0:
        return PronounCounts(counts, labels)
    # one C-level pass; separators come back as matches, so no offsets are needed
    joined = _SEP.join(texts)
    if joined.count("\x00") != n - 1:  # a text holds NUL itself: drop it (never a pronoun)
        joined = _SEP.join(t.replace("\x00", "") for t in texts)
    found = _SCAN.findall(joined.lower())
    if not found:
        return PronounCounts(counts, labels)
    # one dict lookup per match (C-level map), then numpy
    codes = np.fromiter(map(_CODE.__getitem__, found), dtype=np.int8, count=len(found))
    cls_a = codes.astype(np.int64)
    kind_a = np.select([codes < 4, codes == 4, codes == 5], [0, 1, 2], 3).astype(np.int8)
    doc = np.cumsum(kind_a == 3)
    first = np.searchsorted(doc, np.arange(n), side="left")  # first match index of each doc

    def within_doc_before(flags: np.ndarray) -> np.ndarray:
        """How many flagged matches precede each match in the same document."""
        c = np.concatenate([[0], np.cumsum(flags)])
        return c[np.arange(len(flags))] - c[np.minimum(first[doc], len(flags))]

    quotes_before = within_doc_before(kind_a == 2)
    others_before = within_doc_before(kind_a == 1)
    keep = (kind_a == 0) & (quotes_before % 2 == 0) & (others_before == 0)
    d, c = doc[keep], cls_a[keep]
    np.add.at(counts, (d, c), 1)
    # tie-break by first use: earliest match index per (doc, class)
    first_use = np.full((n, len(CLASSES)), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_use, (d, c), np.flatnonzero(keep))
    score = counts.astype(np.float64) - first_use.astype(np.float64) / (len(found) + 1.0) * 0.5
    has = counts.sum(axis=1) > 0
    labels[has] = np.argmax(np.where(counts[has] > 0, score[has], -np.inf), axis=1)
    return PronounCounts(counts, labels)


# --- sentiment, toxicity, classifier ---------------------------------------------------------

_VADER = None


def sentiment(texts: Sequence[str]) -> np.ndarray:
    """VADER compound sentiment of each text, in [-1, 1] (offline, lexicon and rules).

    Identical texts are scored once (probe completions repeat more than one expects:
    short greedy continuations, refusals, template echoes)."""
    global _VADER
    if _VADER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER = SentimentIntensityAnalyzer()
    score = _VADER.polarity_scores
    memo: dict[str, float] = {}
    out = np.empty(len(texts), dtype=np.float64)
    for i, t in enumerate(texts):
        v = memo.get(t)
        if v is None:
            v = memo[t] = score(t)["compound"]
        out[i] = v
    return out


class ToxicityScorer:
    """Toxicity in [0, 1], batch-first.

    With the guard's ``toxicity`` scanner (``source == "guard:toxicity"``) it is built with
    ``min_score=0, localise=False`` where it accepts them, so every text gets one whole-text
    finding and the score is continuous; a scanner without those options reports only
    findings above its own threshold and a text without findings scores 0. Without the
    scanner, alt-profanity-check's ``predict_prob`` is used directly (a calibrated linear SVM
    over word TF-IDF, offline; ``source == "alt-profanity-check"``)."""

    def __init__(self, source: str, scanner: object | None = None) -> None:
        self.source = source
        self._scanner = scanner

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros(0)
        if self._scanner is not None:
            from probity.guard.base import ScanContext

            found = self._scanner.scan_many(texts, ScanContext(direction="output"))
            return np.asarray(
                [max((f.score for f in fs), default=0.0) for fs in found], dtype=np.float64
            )
        from profanity_check import predict_prob

        return np.asarray(predict_prob(texts), dtype=np.float64)


def toxicity_scorer() -> ToxicityScorer:
    """The guard's toxicity scanner if registered, else the alt-profanity-check fallback."""
    from probity.errors import UnknownKeyError
    from probity.guard.base import create_scanner

    try:
        try:
            scanner = create_scanner("toxicity", min_score=0.0, localise=False)
        except TypeError:  # a scanner without those options: thresholded findings
            scanner = create_scanner("toxicity")
    except UnknownKeyError:
        return ToxicityScorer("alt-profanity-check")
    return ToxicityScorer("guard:toxicity", scanner)


def classifier_scores(
    texts: Sequence[str], model_path: str, label: str | None = None, batch_size: int = 32
) -> np.ndarray:
    """Probability of ``label`` (default: the model's last label) from a local transformers
    sequence-classification model (e.g. a regard or sentiment classifier), in [0, 1]."""
    from probity.errors import ModelError, require

    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    try:
        tok = transformers.AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            model_path, local_files_only=True
        )
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load classifier {model_path!r}: {exc}",
            hint="pass a local folder with a sequence-classification model",
        ) from exc
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
        model.config.pad_token_id = tok.pad_token_id
    id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
    if label is None:
        col = max(id2label)
    else:
        inv = {v.lower(): k for k, v in id2label.items()}
        if label.lower() not in inv:
            from probity.errors import InputError

            raise InputError(
                f"classifier has no label {label!r}", hint=f"labels are {sorted(id2label.values())}"
            )
        col = inv[label.lower()]
    out = []
    model.eval()
    for i in range(0, len(texts), batch_size):
        enc = tok(
            list(texts[i : i + batch_size]),
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=256,
        )
        with torch.inference_mode():
            probs = torch.softmax(model(**enc).logits, dim=-1)[:, col]
        out.append(probs.numpy().astype(np.float64))
    return np.concatenate(out) if out else np.zeros(0)


def word_lengths(texts: Sequence[str]) -> np.ndarray:
    """Number of word tokens in each text (probity.text rules)."""
    from probity.text import words

    return np.fromiter((len(words(t)) for t in texts), dtype=np.float64, count=len(texts))


def jaccard(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Word-set Jaccard similarity of each pair ``(a[i], b[i])`` in [0, 1] (1 for two empty
    texts)."""
    from probity.text import words

    out = np.empty(len(a))
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        sx, sy = set(words(x)), set(words(y))
        u = len(sx | sy)
        out[i] = len(sx & sy) / u if u else 1.0
    return out
