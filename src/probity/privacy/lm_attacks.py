"""Membership inference on causal language models: was this text in the training data?

Every attack turns a text into one score, higher meaning "more likely trained on", from one
forward pass of a local causal LM (:func:`probity.lm.load_model` or any ``HFModel``):

* ``loss``: the mean token log-likelihood (Yeom et al. 2018; Carlini et al. 2021).
* ``zlib``: the total log-likelihood divided by the zlib-compressed length in bytes
  (Carlini et al. 2021): texts that are merely simple (repetitive, short words) compress well
  too, so this discounts likelihood that any model would give.
* ``min_k``: the mean of the lowest k% token log-probabilities (Min-K% Prob, Shi et al. 2024):
  a seen text has few surprising tokens.
* ``min_k_pp``: Min-K%++ (Zhang et al. 2024): each token's log-probability standardised by the
  mean and standard deviation of log p over the whole next-token distribution at that
  position, then the mean of the lowest k%. It asks whether the token is a local maximum of
  the model's distribution, which training makes it.
* ``reference``: the target's mean log-likelihood minus a reference model's (Carlini et al.
  2021, 2022): a reference trained on similar data but not the texts calibrates per-text
  difficulty. Pass ``reference=`` (e.g. the base model before fine-tuning).

Metrics (AUC, TPR at low FPR, empirical epsilon) come from :func:`probity.privacy.audit_scores`.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from probity.errors import InputError

LM_ATTACKS = ("loss", "zlib", "min_k", "min_k_pp", "reference")


@dataclass(frozen=True)
class TokenStats:
    """Per-token statistics of one text under one model (tokens after the first)."""

    logp: np.ndarray  # log p(x_t | x_<t)
    mu: np.ndarray  # E_{z ~ p(.|x_<t)} log p(z)
    sigma: np.ndarray  # sd of log p(z) under the same distribution


def _as_model(model: Any) -> Any:
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        from probity.lm import load_model

        return load_model(model)
    if not (hasattr(model, "model") and hasattr(model, "tokenizer")):
        raise InputError(
            f"{type(model).__name__} is not a local causal LM; pass probity.lm.load_model(...) "
            "or a model folder"
        )
    return model


def token_stats(
    model: Any, texts: Sequence[str], *, max_tokens: int | None = None
) -> list[TokenStats]:
    """One forward pass per text; returns :class:`TokenStats` for each (texts of fewer than two
    tokens are refused: they have no predicted token)."""
    import torch

    lm = _as_model(model)
    window = int(
        getattr(lm.model.config, "n_positions", 0)
        or getattr(lm.model.config, "max_position_embeddings", 0)
        or 1024
    )
    limit = min(window, max_tokens or window)
    out = []
    for i, text in enumerate(texts):
        ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"][:limit]
        if len(ids) < 2:
            raise InputError(f"text {i} has fewer than 2 tokens; membership needs longer texts")
        x = torch.tensor([ids], device=lm.device)
        with torch.inference_mode():
            logits = lm.model(input_ids=x).logits[0, :-1].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        probs = logprobs.exp()
        mu = (probs * logprobs).sum(-1)
        var = (probs * logprobs.square()).sum(-1) - mu.square()
        tgt = x[0, 1:]
        lp = logprobs.gather(1, tgt[:, None])[:, 0]
        out.append(
            TokenStats(
                logp=lp.cpu().numpy().astype(np.float64),
                mu=mu.cpu().numpy().astype(np.float64),
                sigma=np.sqrt(np.maximum(var.cpu().numpy().astype(np.float64), 1e-12)),
            )
        )
    return out


def _lowest_mean(values: np.ndarray, k: float) -> float:
    m = max(1, int(np.ceil(k * values.size)))
    return float(np.sort(values)[:m].mean())


def lm_scores(
    model: Any,
    texts: Sequence[str],
    *,
    attacks: Sequence[str] = LM_ATTACKS,
    reference: Any = None,
    k: float = 0.2,
) -> dict[str, np.ndarray]:
    """Scores of ``texts`` under each attack (higher = more likely a member)."""
    bad = [a for a in attacks if a not in LM_ATTACKS]
    if bad:
        raise InputError(f"unknown LM attack {bad[0]!r}; choose from {list(LM_ATTACKS)}")
    if not 0 < k <= 1:
        raise InputError(f"k={k}; the fraction of lowest tokens must be in (0, 1]")
    if "reference" in attacks and reference is None:
        raise InputError("the reference attack needs reference= (a model not trained on them)")
    stats = token_stats(model, texts)
    out: dict[str, np.ndarray] = {}
    for a in attacks:
        if a == "loss":
            out[a] = np.array([s.logp.mean() for s in stats])
        elif a == "zlib":
            out[a] = np.array(
                [
                    s.logp.sum() / len(zlib.compress(t.encode("utf-8")))
                    for s, t in zip(stats, texts, strict=True)
                ]
            )
        elif a == "min_k":
            out[a] = np.array([_lowest_mean(s.logp, k) for s in stats])
        elif a == "min_k_pp":
            out[a] = np.array([_lowest_mean((s.logp - s.mu) / s.sigma, k) for s in stats])
        elif a == "reference":
            ref = token_stats(reference, texts)
            out[a] = np.array(
                [s.logp.mean() - r.logp.mean() for s, r in zip(stats, ref, strict=True)]
            )
    return out


def lm_membership_audit(
    model: Any,
    members: Sequence[str],
    nonmembers: Sequence[str],
    *,
    attacks: Sequence[str] | None = None,
    reference: Any = None,
    k: float = 0.2,
    member_ids: Sequence[Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Attack a causal LM with texts known to be in its training data and texts from the same
    distribution that were not. Returns ``{attack: AuditResult}``; the reference attack runs
    when ``reference`` is given."""
    from probity.privacy.audit import audit_scores

    if not members or not nonmembers:
        raise InputError("need at least one member and one non-member text")
    chosen = (
        list(attacks)
        if attacks is not None
        else [a for a in LM_ATTACKS if a != "reference" or reference is not None]
    )
    t0 = time.perf_counter()
    sm = lm_scores(model, list(members), attacks=chosen, reference=reference, k=k)
    sn = lm_scores(model, list(nonmembers), attacks=chosen, reference=reference, k=k)
    secs = time.perf_counter() - t0
    return {
        a: audit_scores(
            sm[a],
            sn[a],
            attack=f"lm-{a}",
            member_ids=member_ids,
            seed=seed,
            seconds=secs,
            details={"k": k} if a in ("min_k", "min_k_pp") else {},
        )
        for a in chosen
    }


__all__ = ["LM_ATTACKS", "TokenStats", "lm_membership_audit", "lm_scores", "token_stats"]
