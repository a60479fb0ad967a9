"""Membership inference on a causal LM: a tiny GPT-2 fine-tuned offline on planted canaries."""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest

from probity.errors import InputError

WORDS = ["river", "stone", "light", "garden", "teacher", "window", "morning", "rain", "city"]


def _canaries(n, seed):
    rng = random.Random(seed)
    return [
        f"The code of {rng.choice(WORDS)} {rng.choice(WORDS)} is "
        + " ".join(str(rng.randint(0, 9)) for _ in range(8))
        + "."
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def canary_models(tiny_model):
    """(fine-tuned HFModel, base HFModel, members, non-members): the base is the reference."""
    import torch

    from probity.lm.hf import HFModel

    members, nonmembers = _canaries(24, 1), _canaries(24, 2)
    base = tiny_model
    model = copy.deepcopy(base.model)
    model.train()
    tok = base.tokenizer
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    tok.padding_side = "right"  # positions as at scoring time (HFModel pads left to generate)
    batch = tok(members, return_tensors="pt", padding=True)
    tok.padding_side = "left"
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    for _ in range(80):
        opt.zero_grad()
        out = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels
        )
        out.loss.backward()
        opt.step()
    model.eval()
    return HFModel(model, tok, name="canary-tuned"), base, members, nonmembers


def test_attacks_find_planted_canaries(canary_models):
    from probity.privacy import lm_membership_audit

    target, base, members, nonmembers = canary_models
    res = lm_membership_audit(target, members, nonmembers, reference=base)
    assert set(res) == {"loss", "zlib", "min_k", "min_k_pp", "reference"}
    for name, r in res.items():
        assert r.auc > 0.8, (name, r.auc)
    # the untrained base model has not seen the canaries: every attack is near chance on it
    null = lm_membership_audit(base, members, nonmembers)
    assert all(abs(r.auc - 0.5) < 0.25 for r in null.values())


def test_scores_match_a_hand_computation(canary_models):
    import torch

    from probity.privacy import lm_scores

    target, _base, members, _ = canary_models
    text = members[0]
    ids = torch.tensor([target.tokenizer(text)["input_ids"]])
    with torch.inference_mode():
        logp = torch.log_softmax(target.model(input_ids=ids).logits[0, :-1], -1)
    tok_lp = logp.gather(1, ids[0, 1:, None])[:, 0].numpy()
    p = logp.exp()
    mu = (p * logp).sum(-1).numpy()
    sd = np.sqrt(((p * logp**2).sum(-1) - (p * logp).sum(-1) ** 2).numpy())
    k = max(1, int(np.ceil(0.2 * tok_lp.size)))
    s = lm_scores(target, [text], attacks=["loss", "min_k", "min_k_pp"])
    assert s["loss"][0] == pytest.approx(tok_lp.mean(), abs=1e-5)
    assert s["min_k"][0] == pytest.approx(np.sort(tok_lp)[:k].mean(), abs=1e-5)
    assert s["min_k_pp"][0] == pytest.approx(np.sort((tok_lp - mu) / sd)[:k].mean(), abs=1e-4)


def test_bad_inputs(canary_models):
    from probity.privacy import lm_membership_audit, lm_scores

    target, *_ = canary_models
    with pytest.raises(InputError, match="unknown LM attack"):
        lm_scores(target, ["a b c"], attacks=["nope"])
    with pytest.raises(InputError, match="reference"):
        lm_scores(target, ["a b c d"], attacks=["reference"])
    with pytest.raises(InputError, match="fewer than 2 tokens"):
        lm_scores(target, ["a"], attacks=["loss"])
    with pytest.raises(InputError, match="not a local causal LM"):
        lm_membership_audit(object(), ["x y z"], ["x y z"])
