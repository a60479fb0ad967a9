"""Watermarking: bias generation with a keyed green list, detect it with a calibrated p-value.

Schemes (:func:`make_scheme`):

* ``kgw`` (Kirchenbauer et al.): a keyed hash of the context splits the vocabulary into a
  green fraction ``gamma`` (default 0.25) and a red rest; generation adds ``delta`` (default
  2.0) to green logits or, with ``hard``, forbids red tokens. Backends ``fast`` (a keyed
  counter-based PRF: green iff PRF(key, context, token) < gamma 2^64, O(1) per token) and
  ``hf-compat`` (bit-identical with transformers' ``WatermarkingConfig``).
* ``gumbel`` (Aaronson): distortion-free Gumbel-max sampling; Gamma(T, 1) detection.
* ``unigram`` (Zhao et al.): KGW with context width 0, one fixed green list.

:func:`calibrate` measures one key's null on the deployer's own human text (the i.i.d. null
is not true for a fixed key on one domain); detection then uses it and says so in
``Detection.null``.

Detection (:meth:`WatermarkScheme.detect`, :func:`detect_text`) returns a :class:`Detection`
with z, the exact p-value, green/scored counts, the verdict at a stated false-positive rate
(default 1e-4), the best window (``windowed``) and per-token marks. Repeated (context, token)
pairs count once. :func:`certify` signs a detection with the key's Ed25519 key;
:func:`verify_certificate` checks it with the public key alone.
"""

from probity.watermark.api import detect_text, generate, strip_prompt
from probity.watermark.calibration import (
    Calibration,
    attach_calibration,
    calibrate,
    load_calibration,
    save_calibration,
)
from probity.watermark.certificates import CertificateCheck, certify, verify_certificate
from probity.watermark.detection import Detection
from probity.watermark.keys import WatermarkKey, list_keys, load_key, new_key
from probity.watermark.schemes import (
    SCHEMES,
    GumbelScheme,
    KGWScheme,
    WatermarkScheme,
    make_scheme,
)

__all__ = [
    "SCHEMES",
    "Calibration",
    "CertificateCheck",
    "Detection",
    "GumbelScheme",
    "KGWScheme",
    "WatermarkKey",
    "WatermarkScheme",
    "attach_calibration",
    "calibrate",
    "certify",
    "detect_text",
    "generate",
    "list_keys",
    "load_calibration",
    "load_key",
    "make_scheme",
    "new_key",
    "save_calibration",
    "strip_prompt",
    "verify_certificate",
]
