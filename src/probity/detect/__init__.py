"""Was this text machine-generated? Watermark proof first, zero-shot evidence second.

* :class:`ZeroShotDetector`: Fast-DetectGPT (one model), Binoculars (observer and performer
  sharing a tokenizer) or a log-perplexity baseline, batched over local transformers models.
* :class:`Calibration`: human-text scores giving conformal p-values and thresholds at a stated
  false-positive rate; never a bare score.
* :func:`provenance`: one :class:`ProvenanceReport` per text that checks Probity watermark keys
  (proof, with a certificate) before the zero-shot evidence, and states its limits.
"""

from probity.detect.calibration import Calibration, fit_calibration
from probity.detect.detector import (
    LIMITS,
    METHODS,
    ZeroShotDetector,
    ZeroShotResult,
    calibration_path,
    find_calibration,
)
from probity.detect.provenance import ProvenanceReport, provenance

__all__ = [
    "LIMITS",
    "METHODS",
    "Calibration",
    "ProvenanceReport",
    "ZeroShotDetector",
    "ZeroShotResult",
    "calibration_path",
    "find_calibration",
    "fit_calibration",
    "provenance",
]
