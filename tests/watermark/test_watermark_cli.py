"""``probity watermark ...`` and ``probity keys ...`` through the CLI entry point."""

from __future__ import annotations

import json

import pytest

from probity.cli import main


def _json(capsys) -> object:
    return json.loads(capsys.readouterr().out)


def test_keys_new_list_show_export(capsys, tmp_path) -> None:
    assert main(["keys", "new", "prod", "--json"]) == 0
    key = _json(capsys)
    assert key["name"] == "prod" and key["key_id"].startswith("wk-")
    assert main(["keys", "list", "--json"]) == 0
    assert [k["key_id"] for k in _json(capsys)] == [key["key_id"]]
    assert main(["keys", "show", "prod", "--json"]) == 0
    shown = _json(capsys)
    assert shown["public_key"] == key["public_key"] and "secret" not in shown
    assert main(["keys", "export", "prod"]) == 0
    pub = _json(capsys)
    assert pub["public_key"] == key["public_key"] and "secret" not in pub
    out = tmp_path / "full.json"
    assert main(["keys", "export", "prod", "--secret", "--out", str(out)]) == 0
    assert "secret" in json.loads(out.read_text())


def test_unknown_key_is_a_clear_error(capsys) -> None:
    assert main(["keys", "show", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'nope'" in err and "probity keys list" in err and "Traceback" not in err


def test_detect_generate_certificate_and_verify(capsys, tmp_path, tiny_model_dir) -> None:
    pytest.importorskip("torch")
    assert main(["keys", "new", "k1", "--json"]) == 0
    _json(capsys)
    assert (
        main(
            [
                "watermark",
                "generate",
                "the river",
                "--model",
                str(tiny_model_dir),
                "--key",
                "k1",
                "--max-new-tokens",
                "40",
                "--seed",
                "1",
                "--json",
            ]
        )
        == 0
    )
    gen = _json(capsys)
    text = gen["completion"]["text"]
    assert gen["params"]["scheme"] == "kgw"
    cert = tmp_path / "cert.json"
    human = "The old teacher walked home in the rain and remembered her garden."
    assert (
        main(
            [
                "watermark",
                "detect",
                human,
                "--key",
                "k1",
                "--tokenizer",
                str(tiny_model_dir),
                "--json",
            ]
        )
        == 0
    )
    det = _json(capsys)
    assert det["watermarked"] is False and det["scored"] > 5
    src = tmp_path / "t.txt"
    src.write_text(text or "x")
    assert (
        main(
            [
                "watermark",
                "detect",
                "--file",
                str(src),
                "--key",
                "k1",
                "--tokenizer",
                str(tiny_model_dir),
                "--windowed",
                "--fpr",
                "0.01",
                "--certificate",
                str(cert),
                "--json",
            ]
        )
        == 0
    )
    det = _json(capsys)
    assert det["window"] is not None and det["fpr"] == 0.01
    pub = tmp_path / "pub.json"
    assert main(["keys", "export", "k1", "--out", str(pub)]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "watermark",
                "verify",
                str(cert),
                "--public-key",
                str(pub),
                "--file",
                str(src),
                "--json",
            ]
        )
        == 0
    )
    res = _json(capsys)
    assert res["valid"] and res["key_matched"] and res["text_matched"]
    data = json.loads(cert.read_text())
    data["claims"]["p_value"] = 1e-12
    cert.write_text(json.dumps(data))
    assert main(["watermark", "verify", str(cert)]) == 1
    assert "does not verify" in capsys.readouterr().err


def test_detect_jsonl_and_hf_compat_flags(capsys, tmp_path, tiny_model_dir) -> None:
    rows = tmp_path / "in.jsonl"
    rows.write_text('{"text": "the river ran under the bridge"}\n{"text": "a small garden"}\n')
    assert (
        main(
            [
                "watermark",
                "detect",
                "--jsonl",
                str(rows),
                "--backend",
                "hf-compat",
                "--hashing-key",
                "15485863",
                "--tokenizer",
                str(tiny_model_dir),
                "--json",
            ]
        )
        == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["line"] for x in lines] == [1, 2]
    assert lines[0]["params"]["backend"] == "hf-compat" and lines[0]["params"]["vocab_size"]
    assert (
        main(
            [
                "watermark",
                "detect",
                "--jsonl",
                str(rows),
                "--field",
                "body",
                "--hashing-key",
                "1",
                "--backend",
                "hf-compat",
                "--tokenizer",
                str(tiny_model_dir),
            ]
        )
        == 2
    )
    assert "field 'body'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,msg",
    [
        (["watermark", "detect", "hello"], "no key given"),
        (["watermark", "detect", "hello", "--hashing-key", "5", "--backend", "fast"], "hf-compat"),
        (["watermark", "detect", "", "--hashing-key", "5", "--backend", "hf-compat"], "empty"),
        (
            [
                "watermark",
                "detect",
                "hi",
                "--hashing-key",
                "5",
                "--backend",
                "hf-compat",
                "--gamma",
                "2",
            ],
            "gamma",
        ),
        (["watermark", "verify", "/no/such/cert.json"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_error(capsys, tiny_model_dir, args, msg) -> None:
    if args[1] == "detect":
        args = [*args, "--tokenizer", str(tiny_model_dir)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err
