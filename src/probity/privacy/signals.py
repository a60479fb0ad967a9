"""Per-example signals of a classifier: probabilities, loss and the LiRA logit confidence.

A model is anything with ``predict_proba`` (scikit-learn style, Probity's torch estimators)
or a ``torch.nn.Module`` returning logits. Labels are mapped to probability columns through
``model.classes_`` when the model has it, else they must be column indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from probity.errors import InputError, ModelError

#: Probabilities are clipped to [EPS, 1 - EPS] before logs, so a 100%-sure model gives a
#: large but finite loss and logit (about 27.6 in natural-log units). 1e-12 keeps 1 - EPS
#: distinguishable from 1 in float64.
EPS = 1e-12


def as_arrays(X: Any, y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a feature matrix and label vector of one audit set."""
    Xa = np.asarray(X)
    ya = np.asarray(y).ravel()
    if Xa.ndim == 1:
        Xa = Xa.reshape(-1, 1)
    if Xa.ndim != 2 or Xa.shape[0] == 0:
        raise InputError(f"{what}: expected a non-empty 2-D feature table, got shape {Xa.shape}")
    if ya.shape[0] != Xa.shape[0]:
        raise InputError(f"{what}: {Xa.shape[0]} feature rows but {ya.shape[0]} labels")
    return Xa, ya


def predict_proba(model: Any, X: np.ndarray) -> np.ndarray:
    """Class probabilities of ``model`` on ``X`` as an (n, k) float array."""
    if hasattr(model, "predict_proba"):
        try:
            P = np.asarray(model.predict_proba(X), dtype=float)
        except Exception as exc:  # a user model can fail in many ways
            raise ModelError(
                f"the model's predict_proba failed: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        # look at the class hierarchy first, so a plain object never pays for importing torch
        is_module = any(c.__module__.startswith("torch.nn") for c in type(model).__mro__)
        if not is_module:
            raise InputError(
                f"the model ({type(model).__name__}) has no predict_proba, so per-example "
                "confidences cannot be computed",
                hint="pass a classifier with predict_proba (e.g. LogisticRegression, "
                "probity.privacy.TorchClassifier) or a torch module returning logits, "
                "or audit its per-example scores with audit_scores()",
            )
        import torch

        model.eval()
        with torch.no_grad():
            out = model(torch.as_tensor(np.asarray(X, dtype=np.float32)))
            out = out.float()
            if out.ndim == 1 or out.shape[1] == 1:
                p1 = torch.sigmoid(out.reshape(-1))
                out = torch.stack([1 - p1, p1], dim=1)
            else:
                out = torch.softmax(out, dim=1)
        P = out.numpy().astype(float)
    if P.ndim != 2:
        raise ModelError(f"predict_proba returned shape {P.shape}; expected (n_samples, n_classes)")
    return P


def label_columns(model: Any, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Column index of each label in the model's probability matrix."""
    classes = getattr(model, "classes_", None)
    if classes is not None:
        classes = np.asarray(classes)
        pos = np.searchsorted(classes, y) if np.all(classes[:-1] <= classes[1:]) else None
        if pos is None:
            lookup = {c: i for i, c in enumerate(classes.tolist())}
            idx = np.array([lookup.get(v, -1) for v in y.tolist()])
        else:
            pos = np.clip(pos, 0, len(classes) - 1)
            idx = np.where(classes[pos] == y, pos, -1)
        if (idx < 0).any():
            bad = y[int(np.flatnonzero(idx < 0)[0])]
            raise InputError(f"label {bad!r} is not one of the model's classes {classes.tolist()}")
        return idx.astype(int)
    try:
        idx = y.astype(int)
    except (TypeError, ValueError) as exc:
        raise InputError(
            "the model has no classes_, so labels must be integer class indices"
        ) from exc
    if (idx < 0).any() or (idx >= n_classes).any():
        raise InputError(f"labels must be in [0, {n_classes - 1}] for this model")
    return idx


def true_class_proba(model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Probability the model gives each record's true label, clipped to [EPS, 1 - EPS]."""
    P = predict_proba(model, X)
    cols = label_columns(model, y, P.shape[1])
    return np.clip(P[np.arange(len(cols)), cols], EPS, 1 - EPS)


def loss(p_true: np.ndarray) -> np.ndarray:
    """Cross-entropy loss ``-ln p_y`` (nats)."""
    return -np.log(p_true)


def logit_confidence(p_true: np.ndarray) -> np.ndarray:
    """LiRA's statistic ``ln(p_y / (1 - p_y))``, roughly Gaussian across retrainings."""
    return np.log(p_true) - np.log1p(-p_true)


def shadow_features(model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Features the shadow-model attack classifier sees: logit confidence, loss, the top
    probability and the entropy of the predicted distribution."""
    P = np.clip(predict_proba(model, X), EPS, 1.0)
    cols = label_columns(model, y, P.shape[1])
    p = np.clip(P[np.arange(len(cols)), cols], EPS, 1 - EPS)
    ent = -(P * np.log(P)).sum(axis=1)
    return np.column_stack([logit_confidence(p), loss(p), P.max(axis=1), ent])


__all__ = [
    "EPS",
    "as_arrays",
    "label_columns",
    "logit_confidence",
    "loss",
    "predict_proba",
    "shadow_features",
    "true_class_proba",
]
