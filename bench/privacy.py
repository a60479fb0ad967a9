"""Privacy benchmark: membership-inference attack strength and what DP training does to it.

Task A: a synthetic tabular classification pool (d = 400 features, 200 with --quick; a noisy
linear rule); the
target model (scikit-learn LogisticRegression, C = 1, overfits at this n/d) is trained on a
random half of the pool (members); the other half are non-members.

Rows:
* LOSS attack: Probity's :func:`membership_audit` vs a straightforward scikit-learn-only
  baseline (per-example log loss from ``predict_proba``, ``roc_auc_score``/``roc_curve``):
  same AUC expected; time ratio peer/ours.
* LiRA online and offline with 2..64 reference models (random halves of the pool), and the
  shadow-model attack: AUC and TPR at 0.1% FPR, compared with the baseline LOSS attack.
* DP (task B: d = 20, 20% of labels flipped, members/non-members/test as above): an MLP
  (256 hidden units) trained without DP memorises its records' flipped labels; the same MLP
  with DP-SGD (Opacus clipping, secure noise, auto accountant) at epsilon = 1, 4, 8: LOSS-attack AUC, LiRA AUC
  (reference models trained the same way) and test accuracy.

    python bench/privacy.py            # pool of 2,000 records
    python bench/privacy.py --quick    # pool of 1,000, fewer reference models
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from probity.privacy import DPClassifier, TorchClassifier, membership_audit


def baseline_loss_attack(model, Xm, ym, Xn, yn):
    """The peer: a plain scikit-learn threshold attack on the per-example log loss."""
    t0 = time.perf_counter()
    X = np.vstack([Xm, Xn])
    y = np.r_[ym, yn]
    P = model.predict_proba(X)
    p = np.clip(P[np.arange(len(y)), y], 1e-12, 1)
    score = np.log(p)  # = -loss
    lab = np.r_[np.ones(len(ym)), np.zeros(len(yn))]
    auc = roc_auc_score(lab, score)
    fpr, tpr, _ = roc_curve(lab, score)
    tpr01 = float(tpr[fpr <= 0.001].max())
    return auc, tpr01, time.perf_counter() - t0


def _ratio(a: float, b: float) -> str:
    if b == 0:
        return "inf" if a > 0 else "n/a"
    return f"{a / b:.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument(
        "--part",
        default="all",
        help="comma-separated: classic (the attacks/DP table), lira, replay, dp-audit, lm "
        "(see bench/privacy_guarantees.py), or all",
    )
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    parts = (
        {"classic", "lira", "replay", "dp-audit", "lm"}
        if args.part == "all"
        else set(args.part.split(","))
    )
    extra = [p for p in ("lira", "replay", "dp-audit", "lm") if p in parts]
    if extra:
        import privacy_guarantees as G

        grows: list[tuple[str, str, str, str]] = []
        for p in extra:
            getattr(G, "bench_" + p.replace("-", "_"))(grows, args.quick)
        width = max(len(r[0]) for r in grows)
        print(f"| {'case':<{width}} | ours | peer/baseline | ratio |")
        print(f"|{'-' * (width + 2)}|------|------|-------|")
        for case, o, p_, q in grows:
            print(f"| {case:<{width}} | {o} | {p_} | {q} |")
    if "classic" not in parts:
        return
    pool, d = (1000, 200) if args.quick else (2000, 400)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(pool + 2000, d))
    w = rng.normal(size=d)
    y = ((X @ w) / np.sqrt(d) + rng.normal(size=len(X)) > 0).astype(int)
    Xte, yte = X[pool:], y[pool:]
    X, y = X[:pool], y[:pool]
    inside = rng.permutation(pool)[: pool // 2]
    mask = np.zeros(pool, dtype=bool)
    mask[inside] = True
    Xm, ym, Xn, yn = X[mask], y[mask], X[~mask], y[~mask]
    target = LogisticRegression(C=1.0, max_iter=3000).fit(Xm, ym)
    rows: list[tuple[str, str, str, str]] = []

    def f(v: float) -> str:
        return f"{v:.4g}"

    b_auc, b_tpr, b_time = baseline_loss_attack(target, Xm, ym, Xn, yn)
    t_reps = []
    for _ in range(5):
        t0 = time.perf_counter()
        res = membership_audit(target, (Xm, ym), (Xn, yn), attack="loss")
        t_reps.append(time.perf_counter() - t0)
    ours_t = float(np.median(t_reps))
    b_times = [baseline_loss_attack(target, Xm, ym, Xn, yn)[2] for _ in range(5)]
    b_time = float(np.median(b_times))
    rows.append(
        (
            "LOSS attack AUC (peer: sklearn-only threshold attack)",
            f(res.auc),
            f(b_auc),
            _ratio(res.auc, b_auc),
        )
    )
    rows.append(
        (
            "LOSS attack TPR at 0.1% FPR",
            f(res.tpr_at_fpr["0.1%"]),
            f(b_tpr),
            _ratio(res.tpr_at_fpr["0.1%"], b_tpr),
        )
    )
    rows.append(
        (
            "LOSS attack wall time incl. metrics and epsilon bound, s",
            f(ours_t),
            f(b_time),
            _ratio(b_time, ours_t),
        )
    )
    refs = (2, 4, 8, 16) if args.quick else (2, 4, 8, 16, 32, 64)
    for attack in ("lira", "lira-offline"):
        for k in refs:
            r = membership_audit(
                target, (Xm, ym), (Xn, yn), attack=attack, n_reference=k, n_jobs=args.n_jobs, seed=1
            )
            rows.append(
                (f"{attack}, {k} reference models: AUC", f(r.auc), f(b_auc), _ratio(r.auc, b_auc))
            )
            rows.append(
                (
                    f"{attack}, {k} reference models: TPR at 0.1% FPR",
                    f(r.tpr_at_fpr["0.1%"]),
                    f(b_tpr),
                    _ratio(r.tpr_at_fpr["0.1%"], b_tpr),
                )
            )
            print(f"done {attack} {k}", file=sys.stderr, flush=True)
    r = membership_audit(
        target, (Xm, ym), (Xn, yn), attack="shadow", n_reference=16, n_jobs=args.n_jobs, seed=1
    )
    rows.append(("shadow, 16 shadow models: AUC", f(r.auc), f(b_auc), _ratio(r.auc, b_auc)))
    rows.append(
        (
            "shadow, 16 shadow models: TPR at 0.1% FPR",
            f(r.tpr_at_fpr["0.1%"]),
            f(b_tpr),
            _ratio(r.tpr_at_fpr["0.1%"], b_tpr),
        )
    )

    # --- DP, task B: a noisy-label tabular task (d = 20, 20% of labels flipped) where an MLP
    # memorises the flipped labels of its training records; the same MLP with and without
    # DP-SGD. Features are scaled by a public bound (the generator's scale), not by statistics
    # of the private data.
    rng = np.random.default_rng(1)
    Xb = rng.normal(size=(pool + 2000, 20))
    yb = ((Xb @ rng.normal(size=20)) > 0).astype(int)
    yb = np.where(rng.random(len(yb)) < 0.2, 1 - yb, yb)
    Xb = Xb / 3.0
    Bm, bm, Bn, bn = Xb[: pool // 2], yb[: pool // 2], Xb[pool // 2 : pool], yb[pool // 2 : pool]
    Bte, bte = Xb[pool:], yb[pool:]
    make_nondp = lambda: TorchClassifier(hidden=(256,), epochs=150, lr=0.003, batch_size=50)  # noqa: E731
    nondp = make_nondp().fit(Bm, bm)
    nd_loss = membership_audit(nondp, (Bm, bm), (Bn, bn), attack="loss")
    nd_acc = nondp.score(Bte, bte)
    n_dp_ref = 4 if args.quick else 8
    nd_lira = membership_audit(
        nondp,
        (Bm, bm),
        (Bn, bn),
        attack="lira",
        make_model=make_nondp,
        n_reference=n_dp_ref,
        n_jobs=args.n_jobs,
        seed=2,
    )
    rows.append(
        (
            "task B, MLP without DP: train / test accuracy",
            f"{nondp.score(Bm, bm):.4g} / {nd_acc:.4g}",
            "-",
            "-",
        )
    )
    for eps in (1.0, 4.0, 8.0):

        def make(e=eps):
            return DPClassifier(
                epsilon=e,
                hidden=(256,),
                epochs=15,
                lr=0.5,
                batch_size=100,
                max_grad_norm=1.0,
                random_state=0,
            )

        dp = make().fit(Bm, bm)
        dl = membership_audit(dp, (Bm, bm), (Bn, bn), attack="loss")
        acc = dp.score(Bte, bte)
        rows.append(
            (
                f"task B, DP eps={eps:g} (spent {dp.privacy_['epsilon_spent']:.2f} "
                f"{dp.privacy_['accountant']}, RDP {dp.privacy_['epsilon_rdp']:.2f}, delta "
                f"{dp.privacy_['delta']:.1e}): LOSS AUC (peer: no DP)",
                f(dl.auc),
                f(nd_loss.auc),
                _ratio(dl.auc, nd_loss.auc),
            )
        )
        if eps == 8.0:
            lr_ = membership_audit(
                dp,
                (Bm, bm),
                (Bn, bn),
                attack="lira",
                make_model=make,
                n_reference=n_dp_ref,
                n_jobs=args.n_jobs,
                seed=2,
            )
            rows.append(
                (
                    f"task B, DP eps=8: LiRA AUC, {n_dp_ref} reference models trained "
                    "the same way (peer: no DP)",
                    f(lr_.auc),
                    f(nd_lira.auc),
                    _ratio(lr_.auc, nd_lira.auc),
                )
            )
        rows.append(
            (
                f"task B, DP eps={eps:g}: test accuracy (peer: no DP)",
                f(acc),
                f(nd_acc),
                _ratio(acc, nd_acc),
            )
        )
        print(f"done dp {eps}", file=sys.stderr, flush=True)

    width = max(len(r[0]) for r in rows)
    print(f"| {'case':<{width}} | ours | peer | ratio |")
    print(f"|{'-' * (width + 2)}|------|------|-------|")
    for case, o, p, q in rows:
        print(f"| {case:<{width}} | {o} | {p} | {q} |")
    print(
        f"\nmachine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}; pool={pool} (members {len(ym)}, non-members {len(yn)}), "
        f"d={d}, target LogisticRegression C=1 (train acc {target.score(Xm, ym):.3f}, test "
        f"acc {target.score(Xte, yte):.3f})"
    )
    print("ratio = ours/peer for AUC, TPR and accuracy; peer/ours for times")


if __name__ == "__main__":
    main()
