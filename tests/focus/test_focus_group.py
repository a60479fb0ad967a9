"""Virtual focus groups: parsing, statistics, and end-to-end runs against a server with known
preferences and against the tiny local model."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from probity.errors import ConfigError
from probity.focus import StudyConfig, load_study, parse_choice, personas, run_study, wilson
from probity.focus.stats import association

TRUE_SHARE = {"22": 0.85, "38": 0.5, "67": 0.15}  # P(prefer Swift) by age, planted in the server


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Option 1. It is lighter.", "first"),
        ("I would go with option 2 because of the range.", "second"),
        ("The second one, clearly.", "second"),
        ("Swift, since I ride fast.", "first"),
        ("Neither of them suits me.", "neither"),
        ("Option 1 or Option 2, hard to say.", "unparseable"),
        ("What a lovely morning.", "unparseable"),
        ("", "unparseable"),
    ],
)
def test_parse_choice(answer, expected):
    assert parse_choice(answer, "Swift", "Steady") == expected


def test_wilson_matches_known_values_and_edges():
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert np.isnan(wilson(0, 0)[0])


def test_association_detects_dependence_and_reports_untestable_tables():
    assert association(np.array([[80, 20], [20, 80]]))["p_value"] < 1e-10
    assert association(np.array([[50, 50], [50, 50]]))["p_value"] == pytest.approx(1.0)
    assert association(np.array([[10, 0], [5, 0]]))["p_value"] is None


def test_study_validation_names_the_field(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(
        "factors:\n  age: []\nproducts:\n  - {name: A, description: a}\n"
        "  - {name: B, description: b}\n"
    )
    with pytest.raises(ConfigError, match="factors"):
        load_study(p)
    p.write_text("products:\n  - {name: A, description: a}\n  - {name: B, description: b}\n")
    with pytest.raises(ConfigError, match="either 'factors' or 'personas_csv'"):
        load_study(p)


def _server():
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["prompt"]
            # honours seed like vLLM/OpenAI: the same prompt and seed give the same answer;
            # without a seed every request is a fresh draw
            with lock:
                seen[prompt] += 1
                k = body["seed"] if body.get("seed") is not None else f"unseeded{seen[prompt]}"
            u = int(hashlib.sha256(f"{prompt}|{k}".encode()).hexdigest()[:8], 16) / 2**32
            age = re.search(r"a (\d+)-year-old", prompt).group(1)
            swift_first = "Option 1: Swift" in prompt
            wants_swift = u < TRUE_SHARE[age]
            option = 1 if wants_swift == swift_first else 2
            v = int(hashlib.sha256(f"tox|{prompt}|{k}".encode()).hexdigest()[:8], 16) / 2**32
            if v < 0.1:
                text = f" Option {option}. Honestly the other one is stupid crap, what idiots."
            else:
                text = f" Option {option}. It suits how I live."
            data = json.dumps(
                {"choices": [{"index": 0, "text": text, "finish_reason": "stop"}]}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


STUDY = """
name: bikes
factors:
  age: ["22", "38", "67"]
  gender: [woman, man]
products:
  - {name: Swift, description: A light fast e-bike.}
  - {name: Steady, description: A comfortable e-bike.}
persona: "a {age}-year-old {gender}"
samples: 60
seed: 3
"""


def test_known_preferences_are_recovered_with_intervals_and_toxic_answers_removed(tmp_path):
    from probity.lm import OpenAICompatGenerator

    (tmp_path / "s.yaml").write_text(STUDY)
    cfg = load_study(tmp_path / "s.yaml")
    httpd = _server()
    try:
        gen = OpenAICompatGenerator(
            f"http://127.0.0.1:{httpd.server_address[1]}/v1", "m", concurrency=4
        )
        res = run_study(cfg, gen)
    finally:
        httpd.shutdown()
    assert res.counts["prompts"] == 360
    assert 15 <= res.counts["removed"] <= 60  # about 10% were toxic
    assert res.counts["unparseable"] == 0
    for row in res.by_factor["age"]:
        assert row["ci_low"] <= TRUE_SHARE[row["level"]] <= row["ci_high"], row
    assert res.association["age"]["p_value"] < 1e-6
    assert res.association["gender"]["p_value"] > 0.001  # gender has no planted effect
    assert 0.35 < res.position["share"] < 0.65  # the server has no position bias
    assert res.removed_by_persona and all(r["removed"] > 0 for r in res.removed_by_persona)
    json.dumps(res.to_dict(include_answers=True))


def test_cli_runs_on_the_tiny_model_and_writes_a_report(tiny_model_dir, tmp_path, capsys):
    from probity.cli import main

    study = tmp_path / "s.yaml"
    # short answers: the random tiny model cannot answer anyway, this checks the plumbing
    study.write_text(STUDY.replace("samples: 60", "samples: 2\nmax_new_tokens: 6"))
    code = main(
        [
            "focus-group",
            "--study",
            str(study),
            "--model",
            str(tiny_model_dir),
            "--report",
            str(tmp_path / "r.html"),
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    c = data["counts"]
    assert c["prompts"] == 12
    assert c["kept"] + c["removed"] == 12
    assert c["decided"] + c["neither"] + c["unparseable"] == c["kept"]
    html = (tmp_path / "r.html").read_text()
    assert "Virtual focus group: bikes" in html and "unparseable" in html


def test_personas_grid_and_csv(tmp_path):
    cfg = StudyConfig.model_validate(
        {
            "factors": {"a": ["1", "2"], "b": ["x", "y", "z"]},
            "products": [{"name": "P", "description": "p"}, {"name": "Q", "description": "q"}],
        }
    )
    assert len(personas(cfg)) == 6
    (tmp_path / "p.csv").write_text("age,city\n30,Oslo\n50,Lima\n")
    cfg2 = StudyConfig.model_validate(
        {
            "personas_csv": "p.csv",
            "persona": "a {age}-year-old in {city}",
            "products": [{"name": "P", "description": "p"}, {"name": "Q", "description": "q"}],
        }
    )
    assert personas(cfg2, tmp_path) == [
        {"age": "30", "city": "Oslo"},
        {"age": "50", "city": "Lima"},
    ]


def test_cli_runs_against_an_openai_compatible_server(tmp_path, capsys):
    from probity.cli import main

    (tmp_path / "s.yaml").write_text(STUDY)
    httpd = _server()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        args = ["focus-group", "--study", str(tmp_path / "s.yaml"), "--base-url", url]
        code = main([*args, "--model", "m", "--samples", "5", "--json", "--answers"])
    finally:
        httpd.shutdown()
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["prompts"] == 30 and len(data["answers"]) == 30
    assert data["counts"]["unparseable"] == 0
    removed = [a for a in data["answers"] if a["status"] == "removed"]
    assert all("stupid" in a["text"] and a["choice"] == "" for a in removed)
    assert main(["focus-group", "--study", str(tmp_path / "missing.yaml")]) == 2
