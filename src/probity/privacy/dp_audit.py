"""Auditing differential privacy in one training run (Steinke, Nasr and Jagielski 2023).

``m`` canary records are made; each enters the training set independently with probability
1/2 (a fair coin the auditor keeps). After one training run every canary is scored by the
model's log-likelihood of its label; the auditor guesses "in" for the ``k`` highest scores and
"out" for the ``k`` lowest, and counts correct guesses. Canaries are mislabelled outliers
(:func:`make_canaries`), the strongest simple choice for tabular models. Under (epsilon, 0)-DP the number of
correct guesses out of ``r = 2k`` is stochastically dominated by Binomial(r, e^eps/(1+e^eps));
the lower bound is the largest epsilon that this rejects at confidence 1 - beta. With
delta > 0 we add the conservative slack ``r * delta`` to the tail (a union bound over the
guesses), so the reported bound stays a valid lower bound, only looser than the paper's.

One run gives a lower bound far below the true epsilon for realistic training (the paper's
point is that it is cheap and sound, not tight): a bound *above* the promised epsilon is proof
that the training is not as private as claimed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from probity.errors import InputError


@dataclass(frozen=True)
class OneRunAudit:
    """Result of :func:`one_run_audit`."""

    epsilon_lb: float
    epsilon_claimed: float | None
    delta: float
    canaries: int
    included: int
    guesses: int
    correct: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def epsilon_lower_bound(
    guesses: int, correct: int, *, delta: float = 0.0, beta: float = 0.05
) -> float:
    """Largest epsilon rejected at level ``beta`` given ``correct`` of ``guesses`` right.

    ``P[Binomial(r, p) >= c]`` is the regularised incomplete beta ``I_p(c, r - c + 1)``, so
    the p at which the tail (plus the delta slack) reaches beta is one beta quantile; every
    epsilon whose ``e^eps / (1 + e^eps)`` lies below it is rejected.
    """
    from scipy.stats import beta as beta_dist

    slack = guesses * delta
    if guesses <= 0 or correct <= guesses / 2 or slack >= beta:
        return 0.0
    p = float(beta_dist.ppf(beta - slack, correct, guesses - correct + 1))
    if not 0.5 < p < 1.0:
        return 0.0 if p <= 0.5 else math.inf
    return math.log(p / (1 - p))


def make_canaries(m: int, X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` canaries: points on the corners of [-1, 1]^d (far from typical data, which DP
    users scale to that box), each labelled with a class other than its nearest training
    record's: mislabelled outliers, which a model that did not see them gets wrong. They are
    fixed before the inclusion coins are tossed, so the one-run analysis holds."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    Xc = rng.choice([-1.0, 1.0], size=(m, X.shape[1])).astype(np.float32)
    near = y[cKDTree(X).query(Xc)[1]]
    shift = rng.integers(1, len(classes), size=m)
    yc = classes[(np.searchsorted(classes, near) + shift) % len(classes)]
    return Xc, yc


def one_run_audit(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    canaries: int = 200,
    guesses: int | None = None,
    beta: float = 0.05,
    seed: int = 0,
) -> OneRunAudit:
    """Audit ``estimator`` (an unfitted scikit-learn-style classifier, e.g. a
    :class:`~probity.privacy.DPClassifier`) in one fit on ``(X, y)`` plus canaries.

    ``guesses`` (default ``canaries // 5``) is split evenly between "in" and "out" guesses.
    The claimed epsilon is read from ``estimator.epsilon`` when it has one; delta from
    ``privacy_["delta"]`` after the fit (0 for non-private estimators).
    """
    from sklearn.base import clone

    from probity.privacy import signals as S

    Xa = np.asarray(X, dtype=np.float32)
    ya = np.asarray(y).ravel()
    if Xa.ndim != 2 or Xa.shape[0] != ya.shape[0] or Xa.shape[0] == 0:
        raise InputError(f"expected X of shape (n, d) and n labels, got {Xa.shape} and {ya.shape}")
    if canaries < 10:
        raise InputError(f"canaries={canaries}; use at least 10 (hundreds for a useful bound)")
    r = guesses if guesses is not None else max(2, canaries // 5)
    if not 2 <= r <= canaries or r % 2:
        raise InputError(f"guesses={r}; it must be even and between 2 and canaries ({canaries})")
    if np.unique(ya).size < 2:
        raise InputError("the audit needs at least two classes in y")
    Xc, yc = make_canaries(canaries, Xa, ya, seed)
    coin = np.random.default_rng(seed + 1).random(canaries) < 0.5
    est = clone(estimator)
    est.fit(np.concatenate([Xa, Xc[coin]]), np.concatenate([ya, yc[coin]]))
    score = S.log_p(*S.true_class_split(est, Xc, yc))
    order = np.argsort(score, kind="mergesort")
    half = r // 2
    guess_out, guess_in = order[:half], order[-half:]
    correct = int(coin[guess_in].sum() + (~coin[guess_out]).sum())
    privacy = getattr(est, "privacy_", {}) or {}
    delta = float(privacy.get("delta", 0.0))
    claimed = getattr(estimator, "epsilon", None)
    return OneRunAudit(
        epsilon_lb=epsilon_lower_bound(r, correct, delta=delta, beta=beta),
        epsilon_claimed=None if claimed is None else float(claimed),
        delta=delta,
        canaries=canaries,
        included=int(coin.sum()),
        guesses=r,
        correct=correct,
        confidence=1 - beta,
    )


__all__ = ["OneRunAudit", "epsilon_lower_bound", "make_canaries", "one_run_audit"]
