"""MinHash signatures of word n-gram sets, vectorised over a batch of documents.

A document is the set ``S`` of hashes of its word ``ngram``-grams (``probity.text``: normalised
tokens, xxh3 token hashes, polynomial n-gram hashes). Two schemes estimate the Jaccard
similarity ``J(A, B) = |A & B| / |A | B|`` as the fraction of equal signature slots:

* ``"oph"`` (default): *one-permutation hashing with optimal densification* (Li, Owen and Zhang
  2012; Shrivastava 2017). Each shingle hash ``h`` is mixed once with the seed; its top bits
  pick one of ``num_perm`` bins and the bin keeps the minimum of the remaining bits. An empty
  bin borrows the value of the first non-empty bin in a fixed, seeded probe sequence of bins
  (the same sequence for every document, so equal sets give equal signatures). Cost O(|S|)
  per document instead of O(|S| * num_perm); ``P[sig_A[i] == sig_B[i]] = J`` per slot.
* ``"kperm"``: the classic ``num_perm`` independent permutations ``pi_i(x) = a_i * x + b_i
  (mod 2^64)`` with odd ``a_i`` on already well-mixed 64-bit shingle hashes, minimum per
  permutation. Cost O(|S| * num_perm), computed as one ``(num_perm, chunk)`` array op per
  chunk of shingles from many documents.

The standard error of the estimate is about ``sqrt(J (1 - J) / num_perm)`` (0.044 at J = 0.5
with 128 slots); every near-duplicate decision in Probity re-checks the exact Jaccard.
A document with no token gets the all-``EMPTY`` signature; one shorter than ``ngram`` tokens is
one shingle (all its tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import xxhash

from probity.errors import InputError
from probity.text import ASCII_CONTROLS, hash_strings, mix64, ngram_hashes, words

U64 = np.uint64
#: Signature value of an empty slot (a document with no tokens).
EMPTY = np.iinfo(np.uint64).max
_SCHEMES = ("oph", "kperm")

# Batch fast path of ``words`` + ``hash_strings`` for ASCII texts without apostrophes (the texts
# on which ``words`` itself takes its ``lower().translate().split()`` path). The bytes table maps
# every ASCII non-word byte to a space, like ``text._ASCII_NONWORD``, and leaves bytes >= 0x80
# alone, so a 0xFF byte (never in an ASCII text) survives as a document separator token.
_BYTE_NONWORD = bytes(
    32 if i < 128 and not (chr(i).isalnum() or i == 95) else i for i in range(256)
)
#: invisible ASCII controls, deleted like ``text._ASCII_NONWORD`` deletes them
_BYTE_CONTROLS = ASCII_CONTROLS.encode("ascii")
_SEP = " \xff "
#: xxh3 of the separator token; ``hash_strings`` is xxh3_64 (seed 0) of the UTF-8 bytes, and an
#: ASCII token's bytes are its UTF-8 bytes, so the fast path gives the very same token hashes.
_SEP_HASH = U64(xxhash.xxh3_64_intdigest(b"\xff"))


def _plain_ascii(text: str) -> bool:
    return text.isascii() and "'" not in text


def _token_hashes_slow(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    toks = [words(t) for t in texts]
    lens = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    return hash_strings(list(chain.from_iterable(toks))), lens


def _token_hashes_plain(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes and token counts of plain-ASCII texts: one join, split and hash pass.

    Joining the batch with a separator token and splitting once avoids a Python-level list per
    document and the ``str.encode`` of every token (about 30% of the signature cost before).
    """
    joined = (_SEP.join(texts) + _SEP).encode("latin-1")
    toks = joined.lower().translate(_BYTE_NONWORD, _BYTE_CONTROLS).split()
    th = np.fromiter(map(xxhash.xxh3_64_intdigest, toks), dtype=U64, count=len(toks))
    marks = np.flatnonzero(th == _SEP_HASH)
    if len(marks) != len(texts):  # a real token collided with the separator hash (p ~ 2^-64)
        return _token_hashes_slow(texts)
    lens = np.diff(marks, prepend=-1) - 1
    keep = np.ones(len(th), dtype=bool)
    keep[marks] = False
    return th[keep], lens


def batch_token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``hash_strings`` of the ``words`` of every text, concatenated, and each text's count.

    Equal to ``hash_strings(words(t))`` for each ``t`` in order (uint64 hashes, int64 counts);
    runs of plain-ASCII texts go through one batched pass, the others through ``words``.
    """
    n = len(texts)
    plain = [_plain_ascii(t) for t in texts]
    hashes: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    i = 0
    while i < n:
        j = i + 1
        while j < n and plain[j] == plain[i]:
            j += 1
        run = texts[i:j]
        th, lens = _token_hashes_plain(run) if plain[i] else _token_hashes_slow(run)
        hashes.append(th)
        counts.append(lens)
        i = j
    if not hashes:
        return np.empty(0, dtype=U64), np.empty(0, dtype=np.int64)
    if len(hashes) == 1:
        return hashes[0], counts[0]
    return np.concatenate(hashes), np.concatenate(counts)


def shingle_hashes(text: str, ngram: int, seed: int = 0) -> np.ndarray:
    """Sorted unique hashes of the word ``ngram``-grams of ``text`` (uint64).

    A text with fewer than ``ngram`` tokens (but at least one) is one shingle of all its tokens.
    """
    toks = words(text)
    if not toks:
        return np.empty(0, dtype=U64)
    th = hash_strings(toks, seed)
    n = min(ngram, len(th))
    return np.unique(ngram_hashes(th, n))


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique uint64 arrays (0.0 when both are empty)."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray | float:
    """Estimated Jaccard: the fraction of equal slots (row-wise for 2-D arrays)."""
    a = np.asarray(sig_a)
    b = np.asarray(sig_b)
    eq = a == b
    if eq.ndim == 1:
        return float(eq.mean())
    return eq.mean(axis=-1)


class MinHasher:
    """Compute MinHash signatures for many texts at once.

    ``num_perm`` slots (16..4096), word ``ngram``-grams (>= 1), a ``seed`` for the hash family,
    and the ``scheme`` (``"oph"`` fast one-permutation hashing, or ``"kperm"`` classic).
    Signatures of the same hasher (same four parameters) are comparable; ``params`` records them.
    """

    def __init__(
        self, num_perm: int = 128, ngram: int = 5, seed: int = 1, scheme: str = "oph"
    ) -> None:
        if not 16 <= int(num_perm) <= 4096:
            raise InputError(f"num_perm must be in [16, 4096], got {num_perm}")
        if int(ngram) < 1:
            raise InputError(f"ngram must be >= 1, got {ngram}")
        if scheme not in _SCHEMES:
            raise InputError(f"unknown MinHash scheme {scheme!r}; expected one of {_SCHEMES}")
        self.num_perm = int(num_perm)
        self.ngram = int(ngram)
        self.seed = int(seed)
        self.scheme = scheme
        rng = np.random.default_rng(self.seed)
        self._seed_mix = U64(rng.integers(1, 2**63, dtype=np.int64)) * U64(2) + U64(1)
        self._a = rng.integers(0, 2**63, size=self.num_perm, dtype=np.int64).astype(U64) * U64(2)
        self._a += U64(1)  # odd multipliers: a bijection modulo 2^64
        self._b = rng.integers(0, 2**63, size=self.num_perm, dtype=np.int64).astype(U64)
        # Densification probe sequence: for each bin, 64 seeded candidate donor bins.
        self._probe = rng.integers(0, self.num_perm, size=(64, self.num_perm), dtype=np.int64)

    @property
    def params(self) -> dict[str, int | str]:
        """The parameters that make two signatures comparable."""
        return {
            "num_perm": self.num_perm,
            "ngram": self.ngram,
            "seed": self.seed,
            "scheme": self.scheme,
        }

    # -- public ------------------------------------------------------------------------------

    def shingles(self, text: str) -> np.ndarray:
        """Sorted unique shingle hashes of ``text`` (what the signature summarises)."""
        return shingle_hashes(text, self.ngram)

    def signatures(self, texts: Sequence[str], *, batch: int = 2048) -> np.ndarray:
        """Signatures of ``texts`` as an ``(len(texts), num_perm)`` uint64 array."""
        if isinstance(texts, str):
            raise InputError("signatures() takes a sequence of texts, not one string")
        out = np.empty((len(texts), self.num_perm), dtype=U64)
        for lo in range(0, len(texts), batch):
            chunk = texts[lo : lo + batch]
            flat, doc = self._batch_flat(chunk)
            out[lo : lo + len(chunk)] = self._from_flat(flat, doc, len(chunk))
        return out

    def _batch_flat(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle hashes of many texts and the document of each, in one pass for the batch.

        ``ngram_hashes`` of a window depends only on the window's tokens, so hashing the
        concatenated token stream and dropping windows that cross a document boundary gives
        exactly the per-document values. A document shorter than ``ngram`` tokens (but not
        empty) contributes one shingle of all its tokens.
        """
        th, lens = batch_token_hashes(texts)
        n = self.ngram
        ends = np.cumsum(lens)
        grams = ngram_hashes(th, n)
        # Window i is valid when it ends inside its own document; the invalid ones are the last
        # n - 1 window starts before each document end (a few per document, not one per gram).
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), np.maximum(lens - n + 1, 0))
        if n > 1 and len(grams):
            bad = (ends[:, None] - np.arange(1, n, dtype=np.int64)[None, :]).ravel()
            valid = np.ones(len(grams), dtype=bool)
            valid[bad[(bad >= 0) & (bad < len(grams))]] = False
            flat = grams[valid]
        else:
            flat = grams
        short = np.nonzero((lens > 0) & (lens < n))[0]
        if len(short):
            extra = [
                ngram_hashes(th[ends[d] - lens[d] : ends[d]], int(lens[d]))[0]
                for d in short.tolist()
            ]
            flat = np.concatenate([flat, np.asarray(extra, dtype=U64)])
            doc = np.concatenate([doc, short])
            order = np.argsort(doc, kind="stable")
            flat, doc = flat[order], doc[order]
        return flat, doc

    def _from_flat(self, flat: np.ndarray, doc: np.ndarray, n: int) -> np.ndarray:
        if self.scheme == "oph":
            return self._oph(flat, doc, n)
        return self._kperm(flat, np.bincount(doc, minlength=n).astype(np.int64), n)

    def signature(self, text: str) -> np.ndarray:
        """The signature of one text, shape ``(num_perm,)``."""
        return self.signatures([text])[0]

    def signatures_from_hashes(self, shingle_sets: Sequence[np.ndarray]) -> np.ndarray:
        """Signatures from per-document arrays of 64-bit shingle hashes (duplicates allowed)."""
        n = len(shingle_sets)
        lens = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=n)
        flat = (
            np.concatenate([np.asarray(s, dtype=U64) for s in shingle_sets])
            if n
            else np.empty(0, dtype=U64)
        )
        return self._from_flat(flat, np.repeat(np.arange(n, dtype=np.int64), lens), n)

    # -- schemes -----------------------------------------------------------------------------

    def _oph(self, flat: np.ndarray, doc: np.ndarray, n: int) -> np.ndarray:
        k = self.num_perm
        with np.errstate(over="ignore"):
            h = mix64(flat * self._seed_mix)
        # bin = floor(hi32(h) * k / 2^32) works for any k; the bin keeps the full hash.
        bins = ((h >> U64(32)) * U64(k)) >> U64(32)
        sig = np.full(n * k, EMPTY, dtype=U64)
        np.minimum.at(sig, doc * k + bins.astype(np.int64), h)
        sig = sig.reshape(n, k)
        empty = sig == EMPTY
        has_any = ~empty.all(axis=1)
        todo = empty & has_any[:, None]
        if todo.any():
            src = sig.copy()  # donors are original non-empty bins only (optimal densification)
            for attempt in range(self._probe.shape[0]):
                rows, cols = np.nonzero(todo)
                if len(rows) == 0:
                    break
                donor = self._probe[attempt, cols]
                val = src[rows, donor]
                ok = val != EMPTY
                # salt borrowed values with the attempt so a borrowed slot is not a "real" bin
                sig[rows[ok], cols[ok]] = mix64(val[ok] ^ U64(attempt + 1))
                todo[rows[ok], cols[ok]] = False
            if todo.any():  # astronomically rare: fall back to a linear scan for the donor
                for r, c in zip(*np.nonzero(todo), strict=True):
                    nz = np.nonzero(src[r] != EMPTY)[0]
                    sig[r, c] = mix64(src[r, nz[(c + 1) % len(nz)]] ^ U64(999))
        return sig

    def _kperm(self, flat: np.ndarray, lens: np.ndarray, n: int) -> np.ndarray:
        k = self.num_perm
        sig = np.full((n, k), EMPTY, dtype=U64)
        nonempty = np.nonzero(lens)[0]
        if len(nonempty) == 0:
            return sig
        offsets = np.concatenate([[0], np.cumsum(lens)])
        step = max(1, (1 << 22) // k)  # about 4M uint64 cells per chunk
        # process documents in groups whose shingles fit a chunk
        start = 0
        while start < len(nonempty):
            end = start + 1
            base = offsets[nonempty[start]]
            while end < len(nonempty) and offsets[nonempty[end] + 1] - base <= step:
                end += 1
            docs = nonempty[start:end]
            lo, hi = offsets[docs[0]], offsets[docs[-1] + 1]
            x = flat[lo:hi]
            with np.errstate(over="ignore"):
                perm = self._a[:, None] * x[None, :] + self._b[:, None]
            starts = offsets[docs] - lo
            sig[docs] = np.minimum.reduceat(perm, starts, axis=1).T
            start = end
        return sig
