"""Where DP-SGD's randomness comes from, and the noise calibration.

Opacus' own secure mode needs ``torchcsprng``, which has no wheels for current torch; without
it Opacus draws noise and Poisson batches from torch's seeded Mersenne Twister, so two fits
with the same seed are identical and an adversary who knows every other record can replay
training and read membership off the released model. :class:`NoiseSource` draws instead from
``os.urandom`` (the OS CSPRNG) on every call: Gaussians by Box-Muller from 53-bit uniforms,
each the sum of four draws halved (Holohan et al. 2021, as Opacus' secure mode does) against
floating-point attacks. A seed gives a reproducible, explicitly insecure source for tests.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np

_TWO53 = float(2**53)


class NoiseSource:
    """Uniforms and Gaussians for DP-SGD: ``os.urandom`` (secure) or, with ``seed``, numpy's
    PCG64 (reproducible, INSECURE)."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    @property
    def secure(self) -> bool:
        return self._rng is None

    @property
    def label(self) -> str:
        if self.secure:
            return "secure"
        return (
            f"seeded (INSECURE: insecure_noise_seed={self.seed} makes noise and sampling "
            "replayable; anyone with the seed and the other records can infer membership; "
            "for tests only)"
        )

    def uniform(self, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) with 53 random bits each."""
        if self._rng is not None:
            return self._rng.random(n)
        raw = np.frombuffer(os.urandom(8 * n), dtype=np.uint64)
        return (raw >> np.uint64(11)).astype(np.float64) / _TWO53

    def normal(self, shape: tuple[int, ...], std: float) -> np.ndarray:
        """Gaussian noise N(0, std^2) of ``shape`` (float32)."""
        n = int(np.prod(shape)) if shape else 1
        if self._rng is not None:
            z = self._rng.standard_normal((4, n))
        else:
            u1 = 1.0 - self.uniform(4 * n)  # (0, 1]: log is finite
            u2 = self.uniform(4 * n)
            z = (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)).reshape(4, n)
        return (z.sum(axis=0) * (std / 2.0)).astype(np.float32).reshape(shape)


@functools.lru_cache(maxsize=64)
def _sigma(epsilon: float, delta: float, q: float, steps: int, accountant: str) -> float:
    import warnings

    from opacus.accountants.utils import get_noise_multiplier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "optimal order is the largest alpha"
        return float(
            get_noise_multiplier(
                target_epsilon=epsilon,
                target_delta=delta,
                sample_rate=q,
                steps=steps,
                accountant=accountant,
            )
        )


@functools.lru_cache(maxsize=64)
def _epsilon(accountant: str, sigma: float, q: float, steps: int, delta: float) -> float | None:
    import warnings

    from opacus.accountants import create_accountant

    acc = create_accountant(accountant)
    acc.history = [(sigma, q, steps)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "optimal order is the largest alpha"
        try:
            eps = float(acc.get_epsilon(delta=delta))
        except Exception:  # PRV's domain can fail for extreme parameters
            return None
    return eps if math.isfinite(eps) else None


def calibrate(
    epsilon: float, delta: float, q: float, steps: int, accountant: str = "auto"
) -> dict[str, float | str | None]:
    """Noise multiplier for ``(epsilon, delta)`` over ``steps`` steps at sampling rate ``q``.

    ``auto``: calibrated with RDP (fast and always defined), then accounted with both RDP and
    PRV; the reported ``epsilon`` is the tighter one (both are valid upper bounds).
    """
    cal_acc = "rdp" if accountant == "auto" else accountant
    sigma = _sigma(epsilon, delta, q, steps, cal_acc)
    e_rdp = _epsilon("rdp", sigma, q, steps, delta)
    e_prv = _epsilon("prv", sigma, q, steps, delta) if accountant in ("auto", "prv") else None
    if accountant == "auto":
        pairs = [(e, a) for e, a in ((e_rdp, "rdp"), (e_prv, "prv")) if e is not None]
        eps, used = min(pairs)
    else:
        eps = _epsilon(accountant, sigma, q, steps, delta)
        used = accountant
    return {
        "noise_multiplier": sigma,
        "epsilon": eps,
        "epsilon_rdp": e_rdp,
        "epsilon_prv": e_prv,
        "accountant": used,
    }
