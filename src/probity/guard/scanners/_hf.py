"""A local transformers text-classification model as a batch scorer (shared by the
``toxicity`` and ``injection`` scanners). Loaded from a path only: nothing is downloaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from probity.errors import ModelError, require


class LocalClassifier:
    """Scores texts with a local sequence-classification model.

    The score of a text is the summed softmax (or sigmoid, for multi-label heads) probability of
    the labels named in ``positive`` (matched case-insensitively); by default every label except
    the ones that look benign (``safe``, ``neutral``, ``non-toxic``, ``benign``, ``label_0``).
    """

    BENIGN: frozenset[str] = frozenset(
        {
            "safe",
            "neutral",
            "non-toxic",
            "nontoxic",
            "not_toxic",
            "benign",
            "label_0",
            "ok",
            "normal",
            "legit",
            "0",
        }
    )

    def __init__(
        self,
        path: str,
        positive: Sequence[str] | None = None,
        batch_size: int = 32,
        max_length: int = 512,
    ) -> None:
        p = Path(path)
        if not p.is_dir():
            raise ModelError(
                f"classifier model folder not found: {path!r}",
                hint="give a local folder with config.json and weights",
            )
        require("torch", "hf")
        transformers = require("transformers", "hf")
        try:
            self.tok = transformers.AutoTokenizer.from_pretrained(str(p), local_files_only=True)
            self.model = transformers.AutoModelForSequenceClassification.from_pretrained(
                str(p), local_files_only=True
            ).eval()
        except Exception as exc:  # transformers raises many types for broken folders
            raise ModelError(f"cannot load classifier from {path!r}: {exc}") from exc
        labels = {int(i): str(n) for i, n in self.model.config.id2label.items()}
        if positive:
            pos = {x.lower() for x in positive}
            self.pos_idx = [i for i, n in labels.items() if n.lower() in pos]
        else:
            self.pos_idx = [i for i, n in labels.items() if n.lower() not in self.BENIGN]
        if not self.pos_idx:
            raise ModelError(
                f"no positive label among {sorted(labels.values())}",
                hint="name them with the 'positive' option",
            )
        self.multi = self.model.config.problem_type == "multi_label_classification"
        self.batch_size = batch_size
        self.max_length = max_length
        self.version = f"hf:{p.name}"

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = []
        for i in range(0, len(texts), self.batch_size):
            enc = self.tok(
                list(texts[i : i + self.batch_size]),
                truncation=True,
                padding=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            with torch.inference_mode():
                logits = self.model(**enc).logits.float()
            probs = torch.sigmoid(logits) if self.multi else torch.softmax(logits, -1)
            out.append(probs[:, self.pos_idx].sum(-1).clamp(0, 1).numpy())
        return np.concatenate(out) if out else np.zeros(0)
