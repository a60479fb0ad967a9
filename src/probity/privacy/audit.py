"""Membership-inference audits: LOSS/confidence threshold, shadow models, LiRA.

Every attack turns each audited record into a score (higher = "more likely a member"); the
metrics (:mod:`probity.privacy.metrics`) are computed from the scores of records whose
membership the attack never saw:

* ``loss`` (Yeom et al. 2018): the score is ``-loss = ln p_y``; ``confidence`` (Salem et al.
  2019): the top predicted probability, which needs no labels. Nothing is fitted, so every
  record is a held-out record.
* ``shadow`` (Shokri et al. 2017): shadow models are trained on random halves of a population
  (``population`` when given, else the audit pool); an attack classifier learns "in the
  shadow's training set" from the shadow models' outputs. It is **cross-fitted**: the score of
  an audited record comes from an attack classifier fitted only on the other fold's records.
* ``lira`` (Carlini et al. 2022): reference models are trained on random halves of the pool
  (audited records plus ``population``); for each record the logit confidence
  ``phi = ln(p_y / (1 - p_y))`` is modelled as Gaussian when the record is in (IN) and out
  (OUT) of a reference model's training set. Online: score = ``ln N(phi; mu_in, s_in) -
  ln N(phi; mu_out, s_out)``. Offline (only OUT models): score = ``ln Phi((phi - mu_out) /
  s_out)``. With fewer than 32 reference models one global variance per side is used, as
  Carlini et al. recommend. The target's membership labels are never used to fit anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from probity.errors import InputError
from probity.privacy import metrics as M
from probity.privacy import signals as S

Attack = Literal["loss", "confidence", "shadow", "lira", "lira-offline"]
ATTACKS: tuple[str, ...] = ("loss", "confidence", "shadow", "lira", "lira-offline")

#: FPR levels at which TPR is reported (fractions).
FPR_LEVELS: tuple[float, ...] = (0.01, 0.001, 0.0)


def _fpr_key(level: float) -> str:
    return f"{level * 100:g}%"


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one membership-inference attack.

    ``auc`` in [0, 1] (0.5 = chance); ``tpr_at_fpr`` maps "1%", "0.1%", "0%" to the TPR
    reached at that FPR; ``epsilon`` holds the empirical lower bound (``epsilon_lb``, one-sided
    95%) and the held-out point estimate; ``roc`` holds up to ~300 (fpr, tpr) points;
    ``exposed`` the most exposed members (highest scores) with their rank among non-members.
    ``member_scores``/``nonmember_scores`` are the raw scores (not in ``to_dict``).
    """

    attack: str
    auc: float
    tpr_at_fpr: dict[str, float]
    n_members: int
    n_nonmembers: int
    epsilon: dict[str, float]
    roc: dict[str, list[float]]
    exposed: list[dict[str, Any]]
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    member_scores: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    nonmember_scores: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attack": self.attack,
            "auc": self.auc,
            "tpr_at_fpr": dict(self.tpr_at_fpr),
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "epsilon": dict(self.epsilon),
            "roc": self.roc,
            "exposed": self.exposed,
            "seconds": self.seconds,
            "details": S_plain(self.details),
        }

    def add_to_report(self, report: Any, title: str | None = None) -> Any:
        """Add a section (facts, log-scale ROC plot, exposed records) to a probity Report."""
        sec = report.section(title or f"Membership inference: {self.attack} attack")
        sec.facts(
            {
                "attack": self.attack,
                "members / non-members": f"{self.n_members} / {self.n_nonmembers}",
                "AUC": self.auc,
                **{f"TPR at {k} FPR": v for k, v in self.tpr_at_fpr.items()},
                "empirical epsilon (95% lower bound)": self.epsilon.get("epsilon_lb", 0.0),
                "seconds": self.seconds,
            }
        )
        sec.figure(
            roc_figure([self]),
            caption="ROC on log-log axes; the diagonal is chance. "
            "Low-FPR behaviour is what matters for privacy.",
        )
        if self.exposed:
            sec.table(self.exposed[:10], caption="Most exposed members (highest attack scores)")
        return sec


def S_plain(d: dict[str, Any]) -> dict[str, Any]:
    from probity.types import _plain

    return _plain(d)


def roc_figure(results: Sequence[AuditResult], labels: Sequence[str] | None = None):
    """A matplotlib figure with the ROC curves of ``results`` on log-log axes."""
    from probity.report import new_figure

    fig, ax = new_figure(5.0, 4.0)
    lo = 1.0
    for i, r in enumerate(results):
        fpr = np.asarray(r.roc["fpr"])
        tpr = np.asarray(r.roc["tpr"])
        lab = labels[i] if labels else f"{r.attack} (AUC {r.auc:.3f})"
        ax.plot(np.clip(fpr, 1e-5, 1), np.clip(tpr, 1e-5, 1), label=lab)
        lo = min(lo, 1.0 / max(r.n_nonmembers, 1))
    grid = np.logspace(np.log10(max(lo, 1e-5)), 0, 50)
    ax.plot(grid, grid, "k--", lw=0.8, label="chance")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(max(lo, 1e-5) / 2, 1)
    ax.set_ylim(max(lo, 1e-5) / 2, 1.05)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.legend(fontsize=8)
    return fig


def _downsample_roc(fpr: np.ndarray, tpr: np.ndarray, k: int = 300) -> dict[str, list[float]]:
    if fpr.size <= k:
        return {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
    # keep points spread on a log grid of FPR, plus both ends
    grid = np.r_[0.0, np.logspace(-5, 0, k - 1)]
    idx = np.unique(np.clip(np.searchsorted(fpr, grid, side="right") - 1, 0, fpr.size - 1))
    return {"fpr": fpr[idx].tolist(), "tpr": tpr[idx].tolist()}


def audit_scores(
    member_scores: Any,
    nonmember_scores: Any,
    *,
    attack: str = "scores",
    member_ids: Sequence[Any] | None = None,
    top: int = 10,
    delta: float = 0.0,
    seed: int = 0,
    seconds: float = 0.0,
    details: dict[str, Any] | None = None,
) -> AuditResult:
    """Metrics of an attack given its per-example scores (higher = more likely a member)."""
    m = M._scores("members", member_scores)
    n = M._scores("non-members", nonmember_scores)
    fpr, tpr, _ = M.roc(m, n)
    ids = list(member_ids) if member_ids is not None else list(range(m.size))
    if len(ids) != m.size:
        raise InputError(f"{len(ids)} member ids for {m.size} member scores")
    order = np.argsort(-m, kind="mergesort")[:top]
    n_sorted = np.sort(n)
    pct = np.searchsorted(n_sorted, m[order], side="left") / n.size
    exposed = [
        {"id": S_plain({"v": ids[i]})["v"], "score": float(m[i]), "above_nonmembers": float(p)}
        for i, p in zip(order, pct, strict=True)
    ]
    return AuditResult(
        attack=attack,
        auc=M.auc(fpr, tpr),
        tpr_at_fpr={_fpr_key(a): M.tpr_at_fpr(fpr, tpr, a) for a in FPR_LEVELS},
        n_members=int(m.size),
        n_nonmembers=int(n.size),
        epsilon=M.empirical_epsilon(m, n, delta=delta, seed=seed),
        roc=_downsample_roc(fpr, tpr),
        exposed=exposed,
        seconds=float(seconds),
        details=details or {},
        member_scores=m,
        nonmember_scores=n,
    )


def _factory(model: Any, make_model: Callable[[], Any] | None) -> Callable[[], Any]:
    if make_model is not None:
        return make_model
    try:
        from sklearn.base import clone

        clone(model)
    except Exception as exc:
        raise InputError(
            f"cannot retrain a {type(model).__name__} for shadow/reference models",
            hint="pass make_model=<function returning a fresh unfitted estimator>",
        ) from exc
    return lambda: clone(model)


def _fit_one(
    make: Callable[[], Any],
    X: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    Xq: np.ndarray,
    yq: np.ndarray,
    feats: bool,
) -> np.ndarray:
    est = make()
    est.fit(X[idx], y[idx])
    if feats:
        return S.shadow_features(est, Xq, yq)
    return S.logit_confidence(*S.true_class_split(est, Xq, yq))


def _train_reference(
    make: Callable[[], Any],
    X: np.ndarray,
    y: np.ndarray,
    n_models: int,
    seed: int,
    n_jobs: int,
    Xq: np.ndarray,
    yq: np.ndarray,
    feats: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Train ``n_models`` models on random halves of (X, y); return the in-mask (n_models, n)
    and the per-model outputs on the query records."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    # balanced halves: each record is IN for exactly half of the models (pairs of
    # complementary halves), which gives both IN and OUT estimates for every record
    masks = np.zeros((n_models, n), dtype=bool)
    for j in range(0, n_models, 2):
        perm = rng.permutation(n)
        masks[j, perm[: n // 2]] = True
        if j + 1 < n_models:
            masks[j + 1] = ~masks[j]
    jobs = [(np.flatnonzero(masks[j])) for j in range(n_models)]
    if n_jobs == 1:
        outs = [_fit_one(make, X, y, idx, Xq, yq, feats) for idx in jobs]
    else:
        from joblib import Parallel, delayed

        outs = Parallel(n_jobs=n_jobs)(
            delayed(_fit_one)(make, X, y, idx, Xq, yq, feats) for idx in jobs
        )
    return masks, np.stack(outs)


def _lira_scores(
    phi_target: np.ndarray,
    ref: np.ndarray,
    inmask: np.ndarray,
    *,
    online: bool,
    fixed_variance: bool,
) -> np.ndarray:
    from scipy.stats import norm

    out_mask = ~inmask
    n_out = out_mask.sum(axis=0)
    mu_out = np.where(n_out > 0, (ref * out_mask).sum(0) / np.maximum(n_out, 1), 0.0)
    var_out = ((ref - mu_out) ** 2 * out_mask).sum(0) / np.maximum(n_out - 1, 1)
    if fixed_variance:
        var_out = np.full_like(var_out, np.mean(var_out[n_out > 1]) if (n_out > 1).any() else 1.0)
    sd_out = np.sqrt(np.maximum(var_out, 1e-6))
    if not online:
        return norm.logcdf((phi_target - mu_out) / sd_out)
    n_in = inmask.sum(axis=0)
    mu_in = np.where(n_in > 0, (ref * inmask).sum(0) / np.maximum(n_in, 1), mu_out)
    var_in = ((ref - mu_in) ** 2 * inmask).sum(0) / np.maximum(n_in - 1, 1)
    if fixed_variance:
        var_in = np.full_like(var_in, np.mean(var_in[n_in > 1]) if (n_in > 1).any() else 1.0)
    sd_in = np.sqrt(np.maximum(var_in, 1e-6))
    return norm.logpdf(phi_target, mu_in, sd_in) - norm.logpdf(phi_target, mu_out, sd_out)


def membership_audit(
    model: Any,
    members: tuple[Any, Any],
    nonmembers: tuple[Any, Any],
    *,
    attack: str = "loss",
    make_model: Callable[[], Any] | None = None,
    population: tuple[Any, Any] | None = None,
    n_reference: int = 16,
    member_ids: Sequence[Any] | None = None,
    n_jobs: int = 1,
    delta: float = 0.0,
    seed: int = 0,
    top: int = 10,
) -> AuditResult:
    """Attack ``model`` with records known to be members and non-members; return the metrics.

    ``members``/``nonmembers`` are ``(X, y)`` pairs. ``make_model`` returns a fresh unfitted
    estimator for shadow/reference models (default: ``sklearn.base.clone(model)``).
    ``n_reference`` is the number of shadow or reference models (>= 2). ``population`` adds
    records (same distribution, membership unknown) to train them on.
    """
    if attack not in ATTACKS:
        raise InputError(f"unknown attack {attack!r}; choose one of {list(ATTACKS)}")
    t0 = time.perf_counter()
    Xm, ym = S.as_arrays(*members, "members")
    Xn, yn = S.as_arrays(*nonmembers, "non-members")
    if Xm.shape[1] != Xn.shape[1]:
        raise InputError(f"members have {Xm.shape[1]} features but non-members {Xn.shape[1]}")
    details: dict[str, Any] = {}
    if attack in ("loss", "confidence"):
        if attack == "loss":
            sm = -S.loss(*S.true_class_split(model, Xm, ym))
            sn = -S.loss(*S.true_class_split(model, Xn, yn))
        else:  # label-free: the top probability (Salem et al. 2019)
            sm = S.predict_proba(model, Xm).max(axis=1)
            sn = S.predict_proba(model, Xn).max(axis=1)
        details["fitted"] = "nothing (threshold-free scores)"
    else:
        if n_reference < 2:
            raise InputError(f"n_reference={n_reference}; shadow and LiRA need at least 2 models")
        make = _factory(model, make_model)
        Xq = np.concatenate([Xm, Xn])
        yq = np.concatenate([ym, yn])
        if population is not None:
            Xp, yp = S.as_arrays(*population, "population")
        else:
            Xp, yp = Xq[:0], yq[:0]
        if attack == "shadow":
            sm, sn = _shadow(model, make, Xq, yq, Xp, yp, Xm.shape[0], n_reference, seed, n_jobs)
            details["fitted"] = "attack classifier cross-fitted on the other fold's records"
        else:
            Xpool = np.concatenate([Xq, Xp])
            ypool = np.concatenate([yq, yp])
            inmask, ref = _train_reference(
                make, Xpool, ypool, n_reference, seed, n_jobs, Xq, yq, feats=False
            )
            inmask = inmask[:, : Xq.shape[0]]
            phi = S.logit_confidence(*S.true_class_split(model, Xq, yq))
            fixed = n_reference < 32
            sc = _lira_scores(phi, ref, inmask, online=(attack == "lira"), fixed_variance=fixed)
            sm, sn = sc[: Xm.shape[0]], sc[Xm.shape[0] :]
            details["variance"] = (
                "global (fewer than 32 reference models)" if fixed else "per-record"
            )
            details["fitted"] = "per-record Gaussians from reference models; target labels unused"
        details["n_reference"] = n_reference
    return audit_scores(
        sm,
        sn,
        attack=attack,
        member_ids=member_ids,
        top=top,
        delta=delta,
        seed=seed,
        seconds=time.perf_counter() - t0,
        details=details,
    )


def _shadow(
    model: Any,
    make: Callable[[], Any],
    Xq: np.ndarray,
    yq: np.ndarray,
    Xp: np.ndarray,
    yp: np.ndarray,
    n_members: int,
    n_shadow: int,
    seed: int,
    n_jobs: int,
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    external = Xp.shape[0] >= 4
    Xs, ys = (Xp, yp) if external else (Xq, yq)
    inmask, feats = _train_reference(make, Xs, ys, n_shadow, seed, n_jobs, Xs, ys, feats=True)
    target_feats = S.shadow_features(model, Xq, yq)
    rng = np.random.default_rng(seed + 1)
    n = Xq.shape[0]
    fold = rng.integers(0, 2, size=n)
    scores = np.zeros(n)
    for f in (0, 1):
        # rows of the shadow training data allowed to fit the classifier that scores fold f
        allowed = np.ones(Xs.shape[0], dtype=bool) if external else (fold != f)
        Ftr = feats[:, allowed, :].reshape(-1, feats.shape[2])
        ltr = inmask[:, allowed].reshape(-1)
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        clf.fit(Ftr, ltr)
        sel = fold == f
        if sel.any():
            scores[sel] = clf.decision_function(target_feats[sel])
    return scores[:n_members], scores[n_members:]


__all__ = ["ATTACKS", "FPR_LEVELS", "AuditResult", "audit_scores", "membership_audit", "roc_figure"]
