"""Gateway configuration, API-key hashing and the `probity serve` CLI (no server started)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from probity.cli import main
from probity.errors import ConfigError, InputError
from probity.serve import GatewayConfig, KeyStore, hash_api_key, is_loopback, load_gateway_config
from probity.serve.auth import bearer_token, new_api_key, parse_hash


def test_sha256_and_scrypt_hashes_verify_only_the_right_key() -> None:
    a, b = new_api_key("a"), new_api_key("b")
    assert a.startswith("pbk-a-") and len(a) > 40 and a != new_api_key("a")
    store = KeyStore([("a", hash_api_key(a)), ("b", hash_api_key(b, algo="scrypt"))])
    assert store.lookup(a) == "a"
    assert store.lookup(b) == "b"
    assert store.lookup(b) == "b"  # cached scrypt result
    assert store.lookup(a + "x") is None
    assert store.lookup("") is None
    assert hash_api_key(a) == "sha256:" + hashlib.sha256(a.encode()).hexdigest()


def test_bad_hashes_and_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="sha256"):
        parse_hash("md5:abc")
    with pytest.raises(ValueError):
        parse_hash("sha256:abcd")  # too short
    with pytest.raises(InputError):
        new_api_key("bad id!")
    with pytest.raises(InputError):
        hash_api_key("k", algo="bcrypt")


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") == ""
    assert bearer_token(None, "xyz") == "xyz"


def test_config_error_names_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "gateway.yaml"
    p.write_text("host: 127.0.0.1\nbackend:\n  kind: upstream\n  model: m\n")
    with pytest.raises(ConfigError, match=r"gateway.yaml:\d+: backend: .*base_url"):
        load_gateway_config(p)
    p.write_text("port: 80\nlimits:\n  max_tokens: 0\n")
    with pytest.raises(ConfigError, match=r"gateway.yaml:3: limits.max_tokens"):
        load_gateway_config(p)
    p.write_text("keys:\n  - id: a\n    hash: plain-text-key\n")
    with pytest.raises(ConfigError, match=r"keys\.0\.hash"):
        load_gateway_config(p)
    p.write_text("bogus: 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        load_gateway_config(p)


def test_non_loopback_bind_needs_keys() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    GatewayConfig().check_bind()
    with pytest.raises(ConfigError, match="without API keys"):
        GatewayConfig().check_bind("0.0.0.0")
    cfg = GatewayConfig.model_validate({"keys": [{"id": "a", "hash": hash_api_key("k")}]})
    cfg.check_bind("0.0.0.0")
    with pytest.raises(ValueError, match="duplicate"):
        GatewayConfig.model_validate(
            {
                "keys": [
                    {"id": "a", "hash": hash_api_key("k")},
                    {"id": "a", "hash": hash_api_key("j")},
                ]
            }
        )


def test_cli_keys_new_prints_key_and_hash_entry(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "serve",
            "keys",
            "new",
            "--id",
            "team-a",
            "--policy",
            "factual",
            "--allow",
            "strict",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    key, entry = out["key"], out["entry"]
    assert entry["id"] == "team-a" and entry["policy"] == "factual"
    assert entry["allowed_policies"] == ["strict"]
    assert key not in json.dumps(entry)
    assert KeyStore([("team-a", entry["hash"])]).lookup(key) == "team-a"
    rc = main(["serve", "keys", "new", "--id", "b"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "pbk-b-" in text and "sha256:" in text


def test_cli_serve_check_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text("host: 127.0.0.1\nport: 8099\n")
    assert main(["serve", "--config", str(cfg), "--check"]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["serve", "--config", str(cfg), "--host", "0.0.0.0", "--check"]) == 2
    assert "without API keys" in capsys.readouterr().err
    assert main(["serve", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["serve", "--port", "1"]) == 2
    assert "--config" in capsys.readouterr().err
