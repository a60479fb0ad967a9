"""Benchmark: zero-shot machine-text detection (AUROC, TPR at 1% FPR, texts/s).

Human text: held-out 120-token passages of ../shared/data/corpus/tinyshakespeare.txt (the last
10%, which the benchmark model did not train on). Generated text: the benchmark model
../shared/models/shakespeare-gpt2-4l continuing 8-token prompts cut from other held-out
passages, at temperature 1.0 and 0.7. Calibration and evaluation use disjoint human passages.

Peer: the classic log-perplexity detector (what perplexity-threshold tools such as GPTZero's
first version do), run one text at a time through transformers as typical scripts do.
There is no installed peer library for Fast-DetectGPT or Binoculars.

    python bench/detect.py [--quick] [--model PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = Path(os.environ.get("PROBITY_SHARED", ROOT.parent / "shared"))


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    from scipy.stats import rankdata

    scores = np.concatenate([pos, neg])
    ranks = rankdata(scores)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def tpr_at(pos: np.ndarray, neg_cal: np.ndarray, fpr: float) -> float:
    from probity.detect import fit_calibration

    cal = fit_calibration(neg_cal, method="x", models=("x",), source="bench")
    return float(np.mean(pos >= cal.threshold(fpr)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--model", default=str(SHARED / "models" / "shakespeare-gpt2-4l"))
    ap.add_argument("--tokens", type=int, default=120)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from probity.detect import ZeroShotDetector
    from probity.detect.scores import log_perplexity_scores
    from probity.lm import GenerationParams, load_model

    corpus = SHARED / "data" / "corpus" / "tinyshakespeare.txt"
    if not corpus.exists() or not Path(args.model).exists():
        print("skipped: ../shared corpus or benchmark model not present")
        return
    model = load_model(args.model)
    text = corpus.read_text("utf-8")
    held = text[int(len(text) * 0.9) :]
    ids = model.encode(held)
    # The held-out 10% is about 33k tokens: 274 passages of 120 tokens. Calibration and
    # evaluation passages are disjoint; prompts (8 tokens, 5 per passage) come from the rest.
    n_cal, n_eval, n_gen = (100, 60, 30) if args.quick else (160, 90, 100)
    step = args.tokens
    pieces = [ids[i : i + step] for i in range(0, len(ids) - step, step)]
    order = np.random.default_rng(0).permutation(len(pieces))
    pieces = [pieces[i] for i in order]
    need = n_cal + n_eval + -(-n_gen // 5)
    if need > len(pieces):
        raise SystemExit(f"held-out text has {len(pieces)} passages of {step} tokens; need {need}")
    cal_h = [model.decode(p) for p in pieces[:n_cal]]
    eval_h = [model.decode(p) for p in pieces[n_cal : n_cal + n_eval]]
    prompts = [
        model.decode(p[j * 24 : j * 24 + 8]) for p in pieces[n_cal + n_eval :] for j in range(5)
    ][:n_gen]
    rows = []
    for temp in (1.0, 0.7):
        t0 = time.perf_counter()
        outs = model.generate(
            prompts, GenerationParams(max_new_tokens=step, temperature=temp, seed=1)
        )
        gen_s = time.perf_counter() - t0
        machine = [p + o.text for p, o in zip(prompts, outs, strict=True)]
        n_texts = len(cal_h) + len(eval_h) + len(machine)
        # peer: log-perplexity, one text at a time (once per temperature, shared by both rows)
        t0 = time.perf_counter()
        p_cal = np.concatenate([log_perplexity_scores(model, [t], batch_size=1) for t in cal_h])
        p_h = np.concatenate([log_perplexity_scores(model, [t], batch_size=1) for t in eval_h])
        p_m = np.concatenate([log_perplexity_scores(model, [t], batch_size=1) for t in machine])
        peer_rate = n_texts / (time.perf_counter() - t0)
        for method in ("fast-detectgpt", "binoculars"):
            det = ZeroShotDetector(method, model)
            t0 = time.perf_counter()
            s_cal = det.scores(cal_h)
            s_h = det.scores(eval_h)
            s_m = det.scores(machine)
            ours_rate = n_texts / (time.perf_counter() - t0)
            a_ours, a_peer = auroc(s_m, s_h), auroc(p_m, p_h)
            t_ours, t_peer = tpr_at(s_m, s_cal, 0.01), tpr_at(p_m, p_cal, 0.01)
            fpr_emp = float(np.mean(s_h >= fit_cal_threshold(s_cal)))
            rows.append((f"T={temp} {method} AUROC", a_ours, a_peer, a_ours / a_peer))
            rows.append(
                (
                    f"T={temp} {method} TPR@1%FPR",
                    t_ours,
                    t_peer,
                    (t_ours / t_peer) if t_peer else float("nan"),
                )
            )
            rows.append(
                (
                    f"T={temp} {method} held-out human FPR (nominal 0.01)",
                    fpr_emp,
                    float("nan"),
                    float("nan"),
                )
            )
            rows.append((f"T={temp} {method} texts/s", ours_rate, peer_rate, ours_rate / peer_rate))
        rows.append(
            (
                f"T={temp} generation tokens/s (demo of model speed)",
                len(prompts) * step / gen_s,
                float("nan"),
                float("nan"),
            )
        )
    print(
        f"machine: {os.cpu_count()} cpus, python {platform.python_version()}, "
        f"numpy {np.__version__}, torch {torch.__version__} (1 thread); model {Path(args.model).name}; "
        f"{len(cal_h)} calibration + {len(eval_h)} eval human passages, {len(prompts)} generated, "
        f"{step} tokens each"
    )
    print(f"{'case':58} {'ours':>10} {'peer':>10} {'ratio':>8}")
    for case, o, p, r in rows:
        print(f"{case:58} {o:10.4g} {p:10.4g} {r:8.3g}")


def fit_cal_threshold(scores: np.ndarray) -> float:
    from probity.detect import fit_calibration

    return fit_calibration(scores, method="x", models=("x",), source="b").threshold(0.01)


if __name__ == "__main__":
    main()
