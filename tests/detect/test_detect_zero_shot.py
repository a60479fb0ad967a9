"""Zero-shot detection: calibrated p-values, detectors on a tiny model, the CLI."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from probity.detect import Calibration, ZeroShotDetector, fit_calibration, provenance
from probity.errors import InputError
from probity.lm import GenerationParams


def test_conformal_p_values_and_thresholds_hold_their_false_positive_rate():
    rng = np.random.default_rng(0)
    cal = fit_calibration(rng.normal(size=999), method="m", models=("x",), source="test")
    fresh = rng.normal(size=20000)
    for fpr in (0.1, 0.01, 0.005):
        t = cal.threshold(fpr)
        flagged = np.mean(fresh >= t)
        assert flagged <= fpr * 1.3  # sampling noise on 20k draws
        assert cal.p_value(t) <= fpr
    assert cal.p_value(1e9) == pytest.approx(1 / 1000)
    assert cal.p_value(-1e9) == 1.0
    with pytest.raises(InputError, match="needs at least"):
        cal.threshold(1e-4)
    with pytest.raises(InputError, match="at least 20"):
        fit_calibration(np.array([1.0, np.nan]), method="m", models=("x",), source="t")


def test_calibration_round_trips_through_a_file(tmp_path):
    cal = Calibration("fast-detectgpt", ("m",), tuple(float(i) for i in range(30)), "src")
    back = Calibration.load(cal.save(tmp_path / "c.json"))
    assert back == cal
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(Exception, match="not valid"):
        Calibration.load(tmp_path / "bad.json")


@pytest.fixture(scope="module")
def texts(tiny_model):
    rng = random.Random(1)
    words = [
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
        "teacher",
        "doctor",
        "nurse",
        "pilot",
        "story",
        "letter",
        "window",
        "morning",
        "evening",
        "rain",
        "sun",
    ]
    # 50 human texts calibrate (enough for a 5% false-positive rate: >= 19), 30 are held out
    human = [" ".join(rng.choice(words) for _ in range(30)) for _ in range(80)]
    prompts = [" ".join(rng.choice(words) for _ in range(3)) for _ in range(32)]
    outs = tiny_model.generate(
        prompts, GenerationParams(max_new_tokens=30, temperature=0.3, seed=5), batch_size=32
    )
    machine = [p + c.text for p, c in zip(prompts, outs, strict=True)]
    return human, machine


@pytest.mark.parametrize("method", ["fast-detectgpt", "binoculars", "perplexity"])
def test_detectors_separate_low_temperature_samples_from_human_text(tiny_model, texts, method):
    human, machine = texts
    det = ZeroShotDetector(method, tiny_model)
    det.calibrate(human[:50], source="fixture text")
    held_out = det.detect(human[50:], fpr=0.05)
    generated = det.detect(machine, fpr=0.05)
    human_flag_rate = np.mean([r.verdict == "machine-likely" for r in held_out])
    machine_flag_rate = np.mean([r.verdict == "machine-likely" for r in generated])
    h = np.array([r.score for r in held_out])
    m = np.array([r.score for r in generated])
    auroc = (m[:, None] > h[None, :]).mean() + 0.5 * (m[:, None] == h[None, :]).mean()
    assert auroc >= 0.85, auroc
    assert human_flag_rate <= 0.2
    assert machine_flag_rate >= 0.4
    assert all(r.p_value is not None and 0 < r.p_value <= 1 for r in generated)


def test_uncalibrated_and_short_texts_get_no_bare_verdict(tiny_model):
    det = ZeroShotDetector("fast-detectgpt", tiny_model)
    long = "the river walks slowly under the old bridge " * 40  # beyond the 128-token window
    res = det.detect(["the river walks slowly under the old bridge " * 3, "hi", long])
    assert [r.verdict for r in res] == ["uncalibrated", "too-short", "uncalibrated"]
    assert res[2].tokens == 127 and np.isfinite(res[2].score)  # truncated to the window
    # a calibrated detector scores texts on as many tokens as its calibration texts had
    det.calibration = Calibration("fast-detectgpt", ("m",), tuple(range(30)), max_tokens=20)
    assert det.detect([long], fpr=0.05)[0].tokens == 19
    assert res[0].p_value is None
    with pytest.raises(InputError):
        ZeroShotDetector("gptzero", tiny_model)


def test_provenance_without_keys_says_evidence_or_none(tiny_model, texts):
    human, machine = texts
    det = ZeroShotDetector("fast-detectgpt", tiny_model)
    det.calibrate(human[:50])
    reports = provenance([machine[0], human[60]], detector=det, zero_shot_fpr=0.05)
    assert reports[0].kind in ("evidence", "none") and reports[1].kind in ("evidence", "none")
    assert "not proof" in reports[0].conclusion or "does not prove" in reports[0].conclusion
    assert reports[0].limits and json.dumps(reports[0].to_dict())


def test_cli_calibrates_on_human_text_and_answers_in_json(tiny_model_dir, texts, tmp_path, capsys):
    from probity.cli import main

    human, machine = texts
    (tmp_path / "human.txt").write_text("\n\n".join(human[:25]))
    code = main(
        [
            "detect",
            "--model",
            str(tiny_model_dir),
            "--human",
            str(tmp_path / "human.txt"),
            "--fpr",
            "0.05",
            "--json",
            machine[1],
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] in ("evidence", "none") and data["zero_shot"]["p_value"] is not None
    # the saved calibration is found again without --human
    again_args = ["detect", "--model", str(tiny_model_dir), "--fpr", "0.05", "--json", machine[1]]
    assert main(again_args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["zero_shot"]["p_value"] == data["zero_shot"]["p_value"]
    assert main(["detect", "--model", str(tiny_model_dir), "--fpr", "2", "x y z"]) == 2
