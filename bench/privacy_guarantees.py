"""Privacy guarantees benchmark (issue 18), run by ``python bench/privacy.py --part ...``.

* ``lira``: Probity's LiRA at 8/16/64 reference models vs a plain record-by-record LiRA (the
  peer, written here from Carlini et al. 2022) on the same reference models, on a random
  forest (exactly-sure probabilities); AUC and TPR at 0.1% FPR.
* ``replay``: the replay attack on DPClassifier at epsilon 1 (an adversary who knows every
  other record and the seed trains both candidates and picks the closer); seeded (insecure)
  noise vs default noise. Goal: chance (0.5) with default noise.
* ``dp-audit``: epsilon asked vs the one-run audited lower bound (Steinke et al. 2023).
* ``lm``: LM membership inference on the embedded demo model fine-tuned on planted canaries;
  every attack vs the loss baseline (ratio = AUC / loss AUC).
"""

from __future__ import annotations

import copy
import random
import time

import numpy as np
from scipy.stats import norm
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score, roc_curve


def _tpr_at(labels, scores, fpr_max=0.001):
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(tpr[fpr <= fpr_max].max())


def plain_lira(target, refs, masks, X, y, clip=1e-3):
    """The peer: textbook online LiRA, one record at a time, global variance below 32
    references (per-record at 32 and more), as Carlini et al. advise."""

    def phi(m):
        p = np.clip(m.predict_proba(X)[np.arange(len(y)), y], clip, 1 - clip)
        return np.log(p / (1 - p))

    obs = np.stack([phi(m) for m in refs])
    t = phi(target)
    ins = [obs[masks[:, i], i] for i in range(len(y))]
    outs = [obs[~masks[:, i], i] for i in range(len(y))]
    if len(refs) < 32:
        s_in = [np.sqrt(np.mean([v.var(ddof=1) for v in ins]))] * len(y)
        s_out = [np.sqrt(np.mean([v.var(ddof=1) for v in outs]))] * len(y)
    else:
        s_in = [max(v.std(ddof=1), 1e-3) for v in ins]
        s_out = [max(v.std(ddof=1), 1e-3) for v in outs]
    return np.array(
        [
            norm.logpdf(t[i], ins[i].mean(), s_in[i]) - norm.logpdf(t[i], outs[i].mean(), s_out[i])
            for i in range(len(y))
        ]
    )


def bench_lira(rows, quick):
    import probity.privacy.audit as audit_mod
    from probity.privacy import membership_audit

    rng = np.random.default_rng(0)
    n = 600 if quick else 1200
    X = rng.normal(size=(n, 8))
    y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    member = np.zeros(n, bool)
    member[rng.permutation(n)[: n // 2]] = True

    def make():
        return RandomForestClassifier(n_estimators=20, random_state=0, n_jobs=1)

    target = make().fit(X[member], y[member])
    Xo = np.concatenate([X[member], X[~member]])
    yo = np.concatenate([y[member], y[~member]])
    labels = np.r_[np.ones(member.sum()), np.zeros((~member).sum())]
    real = audit_mod._train_reference
    for K in (8, 16) if quick else (8, 16, 64):
        seen = {}

        def spy(*a, _seen=seen, **kw):
            masks, out = real(*a, **kw)
            _seen["masks"] = masks
            return masks, out

        audit_mod._train_reference = spy
        try:
            t0 = time.perf_counter()
            res = membership_audit(
                target,
                (X[member], y[member]),
                (X[~member], y[~member]),
                attack="lira",
                n_reference=K,
            )
            ours_t = time.perf_counter() - t0
        finally:
            audit_mod._train_reference = real
        masks = seen["masks"][:, :n]
        t0 = time.perf_counter()
        refs = [make().fit(Xo[m], yo[m]) for m in masks]
        sc = plain_lira(target, refs, masks, Xo, yo)
        peer_t = time.perf_counter() - t0
        p_auc = roc_auc_score(labels, sc)
        rows.append(
            (
                f"LiRA K={K} AUC (forest, n={n})",
                f"{res.auc:.4f}",
                f"{p_auc:.4f}",
                f"{res.auc / p_auc:.3f}",
            )
        )
        rows.append(
            (
                f"LiRA K={K} TPR@0.1%FPR",
                f"{res.tpr_at_fpr['0.1%']:.4f}",
                f"{_tpr_at(labels, sc):.4f}",
                "-",
            )
        )
        rows.append(
            (f"LiRA K={K} seconds", f"{ours_t:.1f}", f"{peer_t:.1f}", f"{peer_t / ours_t:.2f}")
        )


def bench_replay(rows, quick):
    from probity.privacy import DPClassifier

    trials = 20 if quick else 40
    rng0 = np.random.default_rng(0)
    X = rng0.uniform(-1, 1, size=(24, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    target = np.array([[0.9, 0.9]], dtype=np.float32)
    probe = np.random.default_rng(9).uniform(-1, 1, size=(16, 2)).astype(np.float32)
    Xin, yin = np.vstack([X, target]), np.concatenate([y, [0]])
    out = {}
    for label, extra in (("seeded (insecure)", {"insecure_noise_seed": 7}), ("default", {})):
        kw = dict(epsilon=1.0, delta=1e-3, epochs=2, batch_size=8, lr=0.5, random_state=0, **extra)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r_in = DPClassifier(**kw).fit(Xin, yin).predict_proba(probe)
            r_out = DPClassifier(**kw).fit(X, y).predict_proba(probe)
            rng = np.random.default_rng(123)
            correct = 0
            for _ in range(trials):
                member = bool(rng.integers(2))
                p = DPClassifier(**kw).fit(*((Xin, yin) if member else (X, y))).predict_proba(probe)
                correct += (np.abs(p - r_in).sum() < np.abs(p - r_out).sum()) == member
        out[label] = correct / trials
    rows.append(
        (
            f"replay attack accuracy, eps=1, {trials} trials (goal 0.5)",
            f"{out['default']:.3f}",
            f"{out['seeded (insecure)']:.3f}",
            "-",
        )
    )


def bench_dp_audit(rows, quick):
    from probity.privacy import DPClassifier, TorchClassifier, one_run_audit

    rng = np.random.default_rng(0)
    X = rng.uniform(-0.5, 0.5, size=(1000, 20)).astype(np.float32)
    y = (X[:, 0] + 0.2 * rng.normal(size=1000) > 0).astype(int)
    m = 200 if quick else 500
    for eps in (1.0, 4.0, 8.0):
        clf = DPClassifier(epsilon=eps, hidden=(64,), epochs=10, batch_size=100, lr=0.5)
        res = one_run_audit(clf, X, y, canaries=m, guesses=m // 5)
        rows.append(
            (
                f"one-run audit, DPClassifier eps={eps:g}, {m} canaries",
                f"lb {res.epsilon_lb:.3f}",
                f"asked {eps:g}",
                f"{res.correct}/{res.guesses}",
            )
        )
    clf = TorchClassifier(hidden=(64,), epochs=60, batch_size=100, lr=0.01)
    res = one_run_audit(clf, X, y, canaries=m, guesses=m // 5)
    rows.append(
        (
            f"one-run audit, same MLP without DP, {m} canaries",
            f"lb {res.epsilon_lb:.3f}",
            "asked inf",
            f"{res.correct}/{res.guesses}",
        )
    )


def bench_lm(rows, quick):
    import torch

    from probity.lm import load_model
    from probity.lm.hf import HFModel
    from probity.privacy import lm_membership_audit

    def canaries(n, seed):
        r = random.Random(seed)
        names = ["Romeo", "Juliet", "Hamlet", "Othello", "Lear", "Portia", "Viola", "Puck"]
        return [
            f"{r.choice(names)} keeps the key numbered "
            + " ".join(str(r.randint(0, 9)) for _ in range(6))
            + " beneath the stone."
            for _ in range(n)
        ]

    n = 32 if quick else 64
    members, nonmembers = canaries(n, 1), canaries(n, 2)
    base = load_model()
    model = copy.deepcopy(base.model)
    model.train()
    tok = base.tokenizer
    tok.padding_side = "right"
    batch = tok(members, return_tensors="pt", padding=True)
    tok.padding_side = "left"
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    steps = 10 if quick else 20  # few steps: weak memorisation, where attacks differ
    for _ in range(steps):
        opt.zero_grad()
        model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels
        ).loss.backward()
        opt.step()
    model.eval()
    tuned = HFModel(model, tok, name="demo+canaries")
    res = lm_membership_audit(tuned, members, nonmembers, reference=base)
    base_auc = res["loss"].auc
    for name, r in res.items():
        rows.append(
            (
                f"LM MIA {name} (demo model, {n} canaries, {steps} steps)",
                f"{r.auc:.3f}",
                f"loss {base_auc:.3f}",
                f"{r.auc / base_auc:.3f}",
            )
        )
