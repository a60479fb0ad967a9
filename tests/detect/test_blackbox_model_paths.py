"""Black-box: a model given as a path string (the documented way) is loaded, not used as-is."""

from __future__ import annotations

import os
import random
import subprocess
import sys

HUMAN = [
    "The morning rain fell on the old city while the baker walked slowly to the river.",
    "She remembered the letter her teacher gave her, and she read it again near the window.",
    "When the light came over the garden, the doctor asked the pilot about the quiet stone.",
]
_RNG = random.Random(7)
_WORDS = " ".join(HUMAN).replace(",", "").replace(".", "").lower().split()
HUMAN += [" ".join(_RNG.choice(_WORDS) for _ in range(40)) for _ in range(30)]


def test_zero_shot_detector_accepts_a_model_path_string(tiny_model_dir):
    from probity.detect import ZeroShotDetector

    det = ZeroShotDetector("fast-detectgpt", str(tiny_model_dir))
    det.calibrate(HUMAN, source="fixture")
    assert hasattr(det.model, "encode") and not isinstance(det.model, str)


def test_detect_binoculars_with_model_dirs_on_the_command_line(tiny_model_dir):
    text = " ".join(HUMAN[:3])
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "probity",
            "detect",
            "--method",
            "binoculars",
            "--model",
            str(tiny_model_dir),
            "--performer",
            str(tiny_model_dir),
            "--json",
            text,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert "unexpected" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
