"""Shared fixtures. Nothing here reaches the network: models and corpora are built offline."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_WORDS = [
    "the",
    "a",
    "model",
    "river",
    "stone",
    "light",
    "green",
    "red",
    "quiet",
    "bright",
    "city",
    "garden",
    "learns",
    "writes",
    "reads",
    "walks",
    "under",
    "over",
    "near",
    "far",
    "slowly",
    "quickly",
    "and",
    "but",
    "because",
    "when",
    "while",
    "old",
    "new",
    "small",
    "large",
    "teacher",
    "doctor",
    "nurse",
    "pilot",
    "engineer",
    "baker",
    "story",
    "letter",
    "window",
    "morning",
    "evening",
    "rain",
    "sun",
    "she",
    "he",
    "they",
    "it",
    "we",
    "you",
    "said",
    "asked",
    "answered",
    "remembered",
    "wanted",
    "found",
    "gave",
    "took",
    "made",
]


def write_fixture_corpus(path: Path, sentences: int = 2000, seed: int = 0) -> Path:
    """Write deterministic English-like text for training fixture tokenizers."""
    rng = random.Random(seed)
    lines = []
    for _ in range(sentences):
        n = rng.randint(5, 14)
        words = [rng.choice(_WORDS) for _ in range(n)]
        lines.append(" ".join(words).capitalize() + rng.choice([".", ".", "!", "?"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_tiny_model(
    out_dir: Path, *, vocab_size: int = 400, n_layer: int = 2, n_embd: int = 32, seed: int = 0
) -> Path:
    """Build a tiny GPT-2-style model and a byte-level BPE tokenizer trained on text this
    function writes, save both with ``save_pretrained`` and return the folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = write_fixture_corpus(out_dir / "corpus.txt", seed=seed)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train([str(corpus)], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        model_max_length=128,
    )
    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=len(fast),
        n_positions=128,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=2,
        bos_token_id=fast.eos_token_id,
        eos_token_id=fast.eos_token_id,
    )
    model = GPT2LMHeadModel(cfg)
    model_dir = out_dir / "model"
    model.save_pretrained(model_dir)
    fast.save_pretrained(model_dir)
    return model_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2-style model saved to a temp dir (built once per test run)."""
    pytest.importorskip("transformers")
    import torch

    # One thread: tiny matrices gain nothing from two, and on a busy machine torch's thread
    # pool can make each call tens of times slower.
    torch.set_num_threads(1)
    return build_tiny_model(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):
    """The tiny model loaded back through ``probity.lm.load_model`` (the users' path)."""
    from probity.lm import load_model

    return load_model(tiny_model_dir)


@pytest.fixture(autouse=True)
def probity_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty Probity home."""
    home = tmp_path / "probity-home"
    monkeypatch.setenv("PROBITY_HOME", str(home))
    return home


SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip with a reason when absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (benchmark data is optional for tests)")
    return SHARED
