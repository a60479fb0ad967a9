"""Detection results and their statistics.

For a green/red-list scheme each scored token is green with probability ``gamma`` under the
null hypothesis (a text written without the key), independently once repeated
(context, token) pairs are dropped. With ``g`` green among ``n`` scored tokens:

* ``z = (g - gamma n) / sqrt(n gamma (1 - gamma))`` (reported for comparison with other tools);
* ``p = P[Binomial(n, gamma) >= g]``, exact (``scipy.stats.binom.sf``), the verdict's basis.

For the Gumbel scheme each scored token contributes ``-log(1 - u)``, Exp(1) under the null,
so the sum ``S`` over ``n`` tokens is Gamma(n, 1): ``p = P[Gamma(n, 1) >= S]`` and
``z = (S - n) / sqrt(n)``.

The verdict is ``watermarked = p_value <= fpr``: its false-positive rate is ``fpr`` by
construction, not a magic z threshold.

Windowed detection scans windows of geometrically spaced lengths (16, 23, 32, ... tokens up
to the whole text) at a stride of a quarter of their length, takes the window with the
smallest p-value and multiplies it by the number of windows tried (Bonferroni), so the
corrected p-value is still a valid p-value for the whole text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Marks per token: scored green / scored red / not scored (prompt, too little context, repeat).
GREEN, RED, UNSCORED = 1, 0, -1


@dataclass(frozen=True)
class Detection:
    """The result of scoring one token sequence for a watermark.

    ``scheme`` names the scheme, ``z`` the z-score, ``p_value`` the exact p-value (corrected for
    the windows tried when ``windowed``), ``green`` the number of green tokens among ``scored``
    tokens (for Gumbel: tokens whose score exceeds its median, ln 2), ``watermarked`` the
    verdict ``p_value <= fpr``, ``window`` the best window (``start``/``end`` token indices,
    half-open, into the given tokens, with its own counts and uncorrected p-value) when
    windowed, ``marks`` one of 1 (green), 0 (red), -1 (not scored) per given token.
    ``statistic`` is the test statistic (green count, or the Gumbel score sum). ``null`` names
    the null distribution the p-value was computed under (the i.i.d. binomial/Gamma model, or
    the key's calibration on human text: see :mod:`probity.watermark.calibration`).
    """

    scheme: str
    z: float
    p_value: float
    green: int
    scored: int
    watermarked: bool
    fpr: float
    window: dict[str, Any] | None = None
    marks: tuple[int, ...] = ()
    statistic: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    null: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "z": float(self.z),
            "p_value": float(self.p_value),
            "green": int(self.green),
            "scored": int(self.scored),
            "watermarked": bool(self.watermarked),
            "fpr": float(self.fpr),
            "window": self.window,
            "marks": list(self.marks),
            "statistic": float(self.statistic),
            "params": dict(self.params),
            "null": self.null,
        }


def binomial_sf(green: np.ndarray, n: np.ndarray, gamma: float) -> np.ndarray:
    """``P[Binomial(n, gamma) >= green]`` elementwise (1 where ``n == 0`` or ``green <= 0``).

    ``scipy.special.bdtrc(k, n, p) = P[X > k]`` (the regularised incomplete beta function),
    the same routine ``scipy.stats.binom.sf`` uses, without importing ``scipy.stats``.
    """
    from scipy.special import bdtrc

    g = np.asarray(green, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    return np.where(
        (n > 0) & (g > 0),
        bdtrc(np.maximum(g - 1, 0).astype(np.int64), np.maximum(n, 1).astype(np.int64), gamma),
        1.0,
    )


def gamma_sf(total: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``P[Gamma(n, 1) >= total]`` elementwise (1 where ``n == 0``): the regularised upper
    incomplete gamma function ``Q(n, total)`` (``scipy.special.gammaincc``)."""
    from scipy.special import gammaincc

    t = np.asarray(total, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    return np.where(n > 0, gammaincc(np.maximum(n, 1), np.maximum(t, 0)), 1.0)


def z_binomial(green: float, n: float, gamma: float) -> float:
    return float((green - gamma * n) / np.sqrt(n * gamma * (1 - gamma))) if n else 0.0


def z_gamma(total: float, n: float) -> float:
    return float((total - n) / np.sqrt(n)) if n else 0.0


def window_lengths(n: int, min_len: int = 16) -> list[int]:
    """Window lengths: ``min_len`` times powers of sqrt(2), and ``n`` itself."""
    out: list[int] = []
    length = float(min_len)
    while int(length) < n:
        out.append(int(length))
        length *= 2**0.5
    out.append(n)
    return sorted(set(out))


def best_window(
    values: np.ndarray, counted: np.ndarray, pvalue_fn: Any, *, min_len: int = 16
) -> dict[str, Any]:
    """Scan windows over the counted positions and return the best one.

    ``values`` is the per-position statistic (0/1 green or Gumbel score), ``counted`` marks
    positions that count (scored, not a repeat); windows are runs of counted positions.
    Returns ``start``/``end`` (half-open indices into ``values``), ``scored``, ``statistic``
    (the window's sum), ``p_value_raw``, ``windows_tried`` and ``p_value`` (Bonferroni-
    corrected: ``min(1, p_value_raw * windows_tried)``).
    """
    pos = np.flatnonzero(counted)
    m = len(pos)
    if m == 0:
        return {
            "start": 0,
            "end": 0,
            "scored": 0,
            "statistic": 0.0,
            "p_value_raw": 1.0,
            "windows_tried": 1,
            "p_value": 1.0,
        }
    cs = np.concatenate([[0.0], np.cumsum(values[pos], dtype=np.float64)])
    best = (np.inf, 0, m, 0.0)
    tried = 0
    for length in window_lengths(m, min_len):  # a few lengths (log n); each is vectorised
        stride = max(1, length // 4)
        starts = np.arange(0, m - length + 1, stride)
        if starts[-1] != m - length:
            starts = np.append(starts, m - length)
        sums = cs[starts + length] - cs[starts]
        ps = pvalue_fn(sums, np.full(len(starts), length))
        tried += len(starts)
        i = int(np.argmin(ps))
        if ps[i] < best[0]:
            best = (float(ps[i]), int(starts[i]), int(starts[i] + length), float(sums[i]))
    raw_p, s, e, total = best
    return {
        "start": int(pos[s]),
        "end": int(pos[e - 1]) + 1,
        "scored": e - s,
        "statistic": total,
        "p_value_raw": raw_p,
        "windows_tried": tried,
        "p_value": min(1.0, raw_p * tried),
    }
