"""Torch classifiers as scikit-learn-style estimators, with and without differential privacy.

:class:`TorchClassifier` trains a logistic model (``hidden=()``) or an MLP with Adam/SGD on
cross-entropy; :class:`DPClassifier` trains the same model with DP-SGD through Opacus
(per-example gradients clipped to ``max_grad_norm`` (L2) by Opacus), Gaussian noise
calibrated so that the whole run (Poisson-sampled batches, ``epochs`` passes) is
``(epsilon, delta)``-DP under the RDP accountant (Mironov 2017), reported with the tighter
PRV accountant too (Gopi et al. 2021). Noise and sampling come from the OS CSPRNG
(:mod:`probity.privacy.noise`). ``privacy_`` states what was spent.

Why not diffprivlib: diffprivlib 0.6.6 does not import with scikit-learn 1.9.1, which Probity
pins (through alt-profanity-check), so tabular DP models are trained here as torch logistic or
MLP models through Opacus instead.

DP covers the training data only: do not standardise features with statistics computed on the
private data; scale them with public bounds first (features in roughly [-1, 1] work best).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from probity.errors import InputError, MissingDependencyError


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("torch", "privacy") from exc
    return torch


def _mlp(n_features: int, n_classes: int, hidden: tuple[int, ...]):
    torch = _torch()
    layers: list[Any] = []
    d = n_features
    for h in hidden:
        layers += [torch.nn.Linear(d, h), torch.nn.ReLU()]
        d = h
    layers.append(torch.nn.Linear(d, n_classes))
    return torch.nn.Sequential(*layers)


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """A torch classifier with ``fit``/``partial_fit``/``predict``/``predict_proba``.

    ``hidden``: sizes of hidden layers (``()`` = multinomial logistic regression);
    ``module_fn(n_features, n_classes) -> nn.Module`` replaces the built-in architecture;
    ``epochs`` passes of mini-batch ``batch_size`` at learning rate ``lr`` with weight decay
    ``weight_decay`` (L2); ``random_state`` seeds initialisation and shuffling.
    ``partial_fit`` continues training from the current weights for ``epochs`` passes over the
    given data (used by SISA slices).
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (),
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 0.01,
        weight_decay: float = 0.0,
        optimizer: str = "adam",
        module_fn: Callable[[int, int], Any] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.module_fn = module_fn
        self.random_state = random_state

    # -- helpers -----------------------------------------------------------------------------
    def _check(self, X: Any, y: Any | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        Xa = np.asarray(X, dtype=np.float32)
        if Xa.ndim != 2 or Xa.shape[0] == 0:
            raise InputError(f"expected a non-empty 2-D feature array, got shape {Xa.shape}")
        if not np.isfinite(Xa).all():
            raise InputError("features contain NaN or infinity; impute or drop them first")
        if y is None:
            return Xa, None
        ya = np.asarray(y).ravel()
        if ya.shape[0] != Xa.shape[0]:
            raise InputError(f"{Xa.shape[0]} rows but {ya.shape[0]} labels")
        return Xa, ya

    def _build(self, n_features: int, classes: np.ndarray) -> None:
        torch = _torch()
        if self.random_state is not None:
            torch.manual_seed(self.random_state)
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = n_features
        k = len(self.classes_)
        self.module_ = (
            self.module_fn(n_features, k)
            if self.module_fn is not None
            else _mlp(n_features, k, tuple(self.hidden))
        )

    def _make_optimizer(self, params: Any):
        torch = _torch()
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        raise InputError(f"optimizer {self.optimizer!r}; choose 'adam' or 'sgd'")

    def _targets(self, y: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        if not np.all(self.classes_[idx] == y):
            bad = y[int(np.flatnonzero(self.classes_[idx] != y)[0])]
            raise InputError(f"label {bad!r} is not one of the classes {self.classes_.tolist()}")
        return idx.astype(np.int64)

    def _train(self, X: np.ndarray, t: np.ndarray, epochs: int) -> None:
        torch = _torch()
        gen = torch.Generator().manual_seed(0 if self.random_state is None else self.random_state)
        Xt, tt = torch.from_numpy(X), torch.from_numpy(t)
        if not hasattr(self, "optim_"):
            self.optim_ = self._make_optimizer(self.module_.parameters())
        lossf = torch.nn.CrossEntropyLoss()
        self.module_.train()
        n = X.shape[0]
        bs = max(1, min(self.batch_size, n))
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, bs):
                b = perm[i : i + bs]
                self.optim_.zero_grad()
                lossf(self.module_(Xt[b]), tt[b]).backward()
                self.optim_.step()

    # -- estimator API -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> TorchClassifier:
        Xa, ya = self._check(X, y)
        assert ya is not None
        self._build(Xa.shape[1], np.unique(ya))
        if hasattr(self, "optim_"):
            del self.optim_
        self._train(Xa, self._targets(ya), self.epochs)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> TorchClassifier:
        Xa, ya = self._check(X, y)
        assert ya is not None
        if not hasattr(self, "module_"):
            if classes is None:
                raise InputError("the first partial_fit call needs classes=")
            self._build(Xa.shape[1], np.unique(np.asarray(classes)))
        self._train(Xa, self._targets(ya), self.epochs)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        torch = _torch()
        if not hasattr(self, "module_"):
            raise InputError("this TorchClassifier is not fitted yet; call fit first")
        Xa, _ = self._check(X)
        self.module_.eval()
        with torch.no_grad():
            return torch.softmax(self.module_(torch.from_numpy(Xa)), dim=1).numpy().astype(float)

    def predict(self, X: Any) -> np.ndarray:
        P = self.predict_proba(X)
        return self.classes_[np.argmax(P, axis=1)]


class DPClassifier(TorchClassifier):
    """:class:`TorchClassifier` trained with DP-SGD (Opacus) to a target ``(epsilon, delta)``.

    ``epsilon`` > 0 (smaller = more private; <= 8 is common in practice), ``delta`` defaults to
    ``1 / (10 n)`` (below 1/n, as it must be), ``max_grad_norm`` is the per-example clipping
    bound C. ``accountant``: ``"auto"`` (default) calibrates the noise with the RDP accountant
    and reports the tighter of the RDP and PRV epsilons for it (both are in ``privacy_``);
    ``"rdp"``, ``"prv"`` or ``"gdp"`` use that one accountant only.

    **Noise and batch sampling come from the operating system's CSPRNG** (``os.urandom``) on
    every fit, so nobody can replay training, not even with ``random_state`` (which seeds only
    the weight initialisation). ``insecure_noise_seed`` makes noise and sampling reproducible
    for tests; such a model gives no privacy against an adversary who knows the seed, and
    ``privacy_["noise"]``, warnings and every report say so.

    After ``fit``, ``privacy_`` holds epsilon (target and as accounted), delta, accountant,
    noise multiplier, sampling rate, steps and the noise source. ``partial_fit`` is not
    offered: each call would spend budget.
    """

    def __init__(
        self,
        epsilon: float = 8.0,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        accountant: str = "auto",
        hidden: tuple[int, ...] = (),
        epochs: int = 20,
        batch_size: int = 64,
        lr: float = 0.05,
        weight_decay: float = 0.0,
        optimizer: str = "sgd",
        module_fn: Callable[[int, int], Any] | None = None,
        random_state: int | None = 0,
        insecure_noise_seed: int | None = None,
    ) -> None:
        super().__init__(
            hidden=hidden,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            optimizer=optimizer,
            module_fn=module_fn,
            random_state=random_state,
        )
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.accountant = accountant
        self.insecure_noise_seed = insecure_noise_seed

    def fit(self, X: Any, y: Any) -> DPClassifier:
        torch = _torch()
        try:
            from opacus import PrivacyEngine
        except ImportError as exc:  # pragma: no cover
            raise MissingDependencyError("opacus", "privacy") from exc
        import warnings

        from probity.privacy.noise import NoiseSource, calibrate

        if not (self.epsilon > 0 and math.isfinite(self.epsilon)):
            raise InputError(f"epsilon={self.epsilon}; it must be a positive finite number")
        if self.accountant not in ("auto", "rdp", "prv", "gdp"):
            raise InputError(
                f"accountant={self.accountant!r}; choose 'auto', 'rdp', 'prv' or 'gdp'"
            )
        Xa, ya = self._check(X, y)
        assert ya is not None
        n = Xa.shape[0]
        delta = self.delta if self.delta is not None else 1.0 / (10 * n)
        if not 0 < delta < 1:
            raise InputError(f"delta={delta}; it must be in (0, 1) and should be below 1/n")
        source = NoiseSource(self.insecure_noise_seed)
        if not source.secure:
            warnings.warn(source.label, UserWarning, stacklevel=2)
        batch = max(1, min(self.batch_size, n))
        q = batch / n
        per_epoch = max(1, int(1 / q))  # Opacus' Poisson sampler: 1/q batches per epoch
        total_steps = self.epochs * per_epoch
        cal = calibrate(float(self.epsilon), delta, q, total_steps, self.accountant)
        self._build(Xa.shape[1], np.unique(ya))
        Xt, Tt = torch.from_numpy(Xa), torch.from_numpy(self._targets(ya))
        ds = torch.utils.data.TensorDataset(Xt, Tt)
        loader = torch.utils.data.DataLoader(ds, batch_size=batch)
        optim = self._make_optimizer(self.module_.parameters())
        with warnings.catch_warnings():
            # Opacus warns that its own secure RNG is off: noise and sampling here come from
            # NoiseSource instead (torchcsprng, which Opacus needs, has no current wheels)
            warnings.filterwarnings("ignore", message=".*Secure RNG turned off.*")
            engine = PrivacyEngine(accountant="rdp", secure_mode=False)
            module, optim, _ = engine.make_private(
                module=self.module_,
                optimizer=optim,
                data_loader=loader,
                noise_multiplier=cal["noise_multiplier"],
                max_grad_norm=self.max_grad_norm,
                poisson_sampling=False,  # Poisson sampling is done below, from NoiseSource
            )
        std = cal["noise_multiplier"] * self.max_grad_norm

        def add_noise() -> None:
            # replaces DPOptimizer.add_noise: same Gaussian, drawn from NoiseSource
            for p in optim.params:
                noise = source.normal(tuple(p.summed_grad.shape), std)
                p.grad = (p.summed_grad + torch.from_numpy(noise).to(p.summed_grad)).view_as(p)

        optim.add_noise = add_noise
        lossf = torch.nn.CrossEntropyLoss()
        module.train()
        steps = 0
        with warnings.catch_warnings():
            # Opacus' per-sample hooks on an input that needs no gradient: expected here
            warnings.filterwarnings("ignore", message=".*[Ff]ull backward hook.*")
            for _ in range(total_steps):
                idx = np.flatnonzero(source.uniform(n) < q)
                steps += 1
                if idx.size == 0:  # an empty Poisson batch: the step adds only noise, skipped
                    continue
                sel = torch.from_numpy(idx)
                optim.zero_grad()
                lossf(module(Xt[sel]), Tt[sel]).backward()
                optim.step()
        self.module_ = module._module if hasattr(module, "_module") else module
        self.privacy_ = {
            "epsilon_target": float(self.epsilon),
            "epsilon_spent": cal["epsilon"],
            "epsilon_rdp": cal["epsilon_rdp"],
            "epsilon_prv": cal["epsilon_prv"],
            "delta": delta,
            "accountant": cal["accountant"],
            "noise_multiplier": cal["noise_multiplier"],
            "max_grad_norm": float(self.max_grad_norm),
            "sample_rate": q,
            "steps": steps,
            "epochs": self.epochs,
            "n_train": n,
            "mechanism": "DP-SGD (Opacus clipping, Poisson sampling)",
            "noise": source.label,
        }
        return self

    def add_to_report(self, report: Any, title: str | None = None) -> Any:
        """Add a section with the privacy guarantee (and, for seeded noise, a warning)."""
        if not hasattr(self, "privacy_"):
            raise InputError("DPClassifier is not fitted yet; call fit first")
        sec = report.section(title or "Differentially private training")
        if self.privacy_["noise"] != "secure":
            sec.text(f"INSECURE: {self.privacy_['noise']}")
        sec.facts({k: v for k, v in self.privacy_.items() if v is not None})
        return sec

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> DPClassifier:
        raise InputError(
            "DPClassifier does not support partial_fit: every call would spend "
            "privacy budget; call fit once with the full epochs"
        )


__all__ = ["DPClassifier", "TorchClassifier"]
