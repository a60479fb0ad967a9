"""Demo step: a model leaks its training data; SISA forgets a record and certifies it."""

from __future__ import annotations

from typing import Any

ORDER = 70
TITLE = "Privacy: membership inference, and forgetting records with SISA"


def run(ctx: Any) -> dict[str, Any]:
    import json

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    from probity.privacy import membership_audit, roc_figure
    from probity.unlearning import SISAModel, verify_certificate

    rng = np.random.default_rng(7)
    # 1. an overfit model: 120 features, 200 training records
    X = rng.normal(size=(400, 120))
    y = ((X @ rng.normal(size=120)) / 11 + rng.normal(size=400) > 0).astype(int)
    overfit = LogisticRegression(C=1.0, max_iter=3000).fit(X[:200], y[:200])
    loss = membership_audit(overfit, (X[:200], y[:200]), (X[200:], y[200:]), attack="loss")
    lira = membership_audit(
        overfit, (X[:200], y[:200]), (X[200:], y[200:]), attack="lira", n_reference=8
    )
    ctx.say(
        f"Overfit model (train acc {overfit.score(X[:200], y[:200]):.2f}, test acc "
        f"{overfit.score(X[200:], y[200:]):.2f}): LOSS-attack AUC {loss.auc:.3f}, LiRA AUC "
        f"{lira.auc:.3f}, LiRA TPR at 1% FPR {lira.tpr_at_fpr['1%']:.2f}"
    )

    # 2. SISA: canaries (ordinary-looking records with the opposite label) are memorised
    Z = rng.normal(size=(300, 4))
    zy = (Z[:, 0] > 0).astype(int)
    C = rng.normal(size=(16, 4))
    cy = (C[:, 0] <= 0).astype(int)
    ids = [f"rec{i}" for i in range(300)] + [f"canary{i}" for i in range(8)]
    model = SISAModel.train(
        DecisionTreeClassifier(random_state=0),
        np.vstack([Z, C[:8]]),
        np.r_[zy, cy[:8]],
        ctx.out_dir / "sisa-demo",
        ids=ids,
        shards=3,
        slices=2,
        backend="serial",
        overwrite=True,
    )
    before = membership_audit(model, (C[:8], cy[:8]), (C[8:], cy[8:]), attack="loss")
    res = model.forget([ids[300]], reason="demo: data subject request")  # one record
    model.forget(ids[301:], reason="demo: batch request")  # the other canaries
    after = membership_audit(model, (C[:8], cy[:8]), (C[8:], cy[8:]), attack="loss")
    ledger = model.verify_ledger()  # pins the unlearning key recorded at training
    verify_certificate(res.certificate, public_key=ledger["public_key"])
    ctx.say(
        f"SISA (3 shards x 2 slices): canaries' attack AUC {before.auc:.2f} before forgetting, "
        f"{after.auc:.2f} after; forgetting {ids[300]} retrained {len(res.retrained)} of 3 "
        "shards; "
        f"certificate signed by {res.certificate.key_id}, ledger OK ({ledger['entries']} "
        "entries)"
    )

    sec = ctx.report.section(TITLE)
    sec.text(
        "A logistic model with more features than it can support memorises its training "
        "records: a membership-inference attack tells members from non-members. SISA "
        "trains one model per shard, so forgetting a record retrains only its shard."
    )
    sec.facts(
        {
            "overfit model: LOSS AUC": loss.auc,
            "overfit model: LiRA AUC": lira.auc,
            "LiRA TPR at 1% FPR": lira.tpr_at_fpr["1%"],
            "empirical epsilon (95% lower bound, LiRA)": lira.epsilon["epsilon_lb"],
            "canaries: attack AUC before forget": before.auc,
            "canaries: attack AUC after forget": after.auc,
            f"shards retrained to forget {ids[300]}": str(sorted(res.retrained)),
            "still in manifest": any(i in model.manifest() for i in ids[300:]),
        }
    )
    sec.figure(roc_figure([loss, lira]), caption="Attacks on the overfit model (log-log ROC)")
    sec.code(json.dumps(res.certificate.to_dict(), indent=2)[:3000])
    return {
        "loss_auc": round(loss.auc, 4),
        "lira_auc": round(lira.auc, 4),
        "canary_auc_before": round(before.auc, 4),
        "canary_auc_after": round(after.auc, 4),
        "retrained_shards": sorted(res.retrained),
        "certificate": res.request_id,
    }
