"""Black-box attacks on the privacy claims (issue 18, Found 1 and 7).

A replay adversary knows every training record but one, the hyper-parameters and the
`random_state`; it trains both candidate models itself and picks the one closer to the
released model. With deterministic noise it wins every time; with secret noise at epsilon 1
it must be near chance.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from probity.privacy import DPClassifier, membership_audit


def _tiny(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    return X, y


def _replay(trials: int, **dp_kw) -> tuple[float, int]:
    """The replay adversary's accuracy (released model closer to which replay) and how often
    the released model equals one of its two replays exactly."""
    X, y = _tiny()
    target = np.array([[0.9, 0.9]], dtype=np.float32)  # the record whose membership is guessed
    target_y = np.array([0])  # an outlier label: it moves the model
    probe = np.random.default_rng(9).uniform(-1, 1, size=(16, 2)).astype(np.float32)
    Xin, yin = np.vstack([X, target]), np.concatenate([y, target_y])
    kw = dict(epsilon=1.0, delta=1e-3, epochs=2, batch_size=8, lr=0.5, random_state=0, **dp_kw)
    replay_in = DPClassifier(**kw).fit(Xin, yin).predict_proba(probe)
    replay_out = DPClassifier(**kw).fit(X, y).predict_proba(probe)
    rng = np.random.default_rng(123)
    correct = exact = 0
    for _ in range(trials):
        member = bool(rng.integers(2))
        p = DPClassifier(**kw).fit(*((Xin, yin) if member else (X, y))).predict_proba(probe)
        guess = np.abs(p - replay_in).sum() < np.abs(p - replay_out).sum()
        correct += guess == member
        exact += bool(np.array_equal(p, replay_in) or np.array_equal(p, replay_out))
    return correct / trials, exact


def test_replay_attack_is_at_chance_with_default_noise():
    # The replay adversary knows every other record, the hyper-parameters and random_state.
    # With seeded noise its replay reproduces the released model bit for bit (see the seeded
    # test below); with secret noise no replay ever reproduces it, so the adversary is left
    # with epsilon's bound. (The statistical version, attack accuracy vs chance over many
    # trials, is in bench/privacy_guarantees.py: a fixed-size test of an accuracy that DP
    # allows up to e/(1+e) = 0.73 at epsilon 1 would fail by chance.)
    assert _replay(6)[1] == 0
    assert _replay(2, insecure_noise_seed=7)[1] == 2  # the same attack on seeded noise


def test_two_fits_differ_and_the_noise_source_is_reported():
    X, y = _tiny(60)
    a = DPClassifier(epsilon=1.0, epochs=2, batch_size=10, random_state=0).fit(X, y)
    b = DPClassifier(epsilon=1.0, epochs=2, batch_size=10, random_state=0).fit(X, y)
    assert not np.allclose(a.predict_proba(X), b.predict_proba(X))
    assert a.privacy_["noise"] == "secure"


@pytest.mark.filterwarnings("ignore:seeded")
def test_seeded_noise_is_explicit_insecure_and_replayable():
    acc, _ = _replay(4, insecure_noise_seed=7)
    assert acc == 1.0  # the attack works: this is why seeded noise is named insecure
    X, y = _tiny(60)
    with pytest.warns(UserWarning, match="INSECURE"):
        DPClassifier(epsilon=1.0, epochs=1, batch_size=10, insecure_noise_seed=7).fit(X, y)
    clf = DPClassifier(epsilon=1.0, epochs=2, batch_size=10, insecure_noise_seed=7).fit(X, y)
    assert "insecure" in clf.privacy_["noise"].lower()
    from probity.report import Report

    rep = Report("dp")
    clf.add_to_report(rep)
    assert "INSECURE" in rep.render()


def _plain_lira(target, refs, masks, X, y, per_record_variance):
    """Textbook online LiRA written record by record (Carlini et al. 2022, algorithm 1), on
    the probabilities a user sees, clipped at 1e-3 like Probity's."""
    from scipy.stats import norm

    def phi(model):
        p = model.predict_proba(X)[np.arange(len(y)), y]
        p = np.clip(p, 1e-3, 1 - 1e-3)
        return np.log(p / (1 - p))

    obs = [phi(m) for m in refs]
    t = phi(target)
    ins = [[obs[k][i] for k in range(len(refs)) if masks[k][i]] for i in range(len(y))]
    outs = [[obs[k][i] for k in range(len(refs)) if not masks[k][i]] for i in range(len(y))]
    if per_record_variance:
        s_in = [max(np.std(v, ddof=1), 1e-3) for v in ins]
        s_out = [max(np.std(v, ddof=1), 1e-3) for v in outs]
    else:  # one variance per side, the mean of the per-record ones
        s_in = [np.sqrt(np.mean([np.var(v, ddof=1) for v in ins]))] * len(y)
        s_out = [np.sqrt(np.mean([np.var(v, ddof=1) for v in outs]))] * len(y)
    return np.array(
        [
            norm.logpdf(t[i], np.mean(ins[i]), s_in[i])
            - norm.logpdf(t[i], np.mean(outs[i]), s_out[i])
            for i in range(len(y))
        ]
    )


def test_lira_matches_a_plain_per_record_implementation(monkeypatch):
    from sklearn.ensemble import RandomForestClassifier

    import probity.privacy.audit as audit_mod

    rng = np.random.default_rng(0)
    n, d = 400, 8
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    member = np.zeros(n, bool)
    member[rng.permutation(n)[: n // 2]] = True

    def make():
        return RandomForestClassifier(n_estimators=30, random_state=0)

    target = make().fit(X[member], y[member])
    seen = {}
    real = audit_mod._train_reference

    def spy(*args, **kw):  # records which records each reference model trained on
        masks, out = real(*args, **kw)
        seen["masks"] = masks
        return masks, out

    monkeypatch.setattr(audit_mod, "_train_reference", spy)
    members, nonmembers = (X[member], y[member]), (X[~member], y[~member])
    res = membership_audit(target, members, nonmembers, attack="lira", n_reference=16)
    Xo = np.concatenate([X[member], X[~member]])
    yo = np.concatenate([y[member], y[~member]])
    masks = seen["masks"][:, :n]
    refs = [make().fit(Xo[m], yo[m]) for m in masks]
    labels = np.r_[np.ones(member.sum()), np.zeros((~member).sum())]
    same = roc_auc_score(labels, _plain_lira(target, refs, masks, Xo, yo, False))
    per_record = roc_auc_score(labels, _plain_lira(target, refs, masks, Xo, yo, True))
    assert res.auc == pytest.approx(same, abs=0.01)
    # the shared variance must not lose to per-record variances (0.80 vs 0.87 before the fix)
    assert res.auc >= per_record - 0.01 and res.auc > 0.85
