"""Policies: shipped profiles, validation errors with file/line/field, optional scanners."""

from __future__ import annotations

import pytest

from probity.errors import ConfigError, UnknownKeyError
from probity.guard import Guard, load_policy, policy_from_text, scanner_names, shipped_policies

SHIPPED = {"default", "factual", "creative", "focus-group", "strict"}


def test_shipped_policies_load_with_modes_and_digests():
    assert set(shipped_policies()) >= SHIPPED
    digests = set()
    for name in SHIPPED:
        p = load_policy(name)
        assert p.name == name
        assert p.mode in ("factual", "creative")
        assert len(p.digest) == 64
        digests.add(p.digest)
        Guard(p)  # every scanner builds (optional ones are skipped)
    assert len(digests) == len(SHIPPED)
    assert load_policy("creative").mode == "creative"


def test_digest_ignores_comments_and_key_order_but_not_values():
    a = policy_from_text("# c\nname: x\ninput:\n  - {scanner: pii, threshold: 0.5}\n")
    b = policy_from_text("input:\n  - {threshold: 0.5, scanner: pii}\nname: x\n")
    c = policy_from_text("name: x\ninput:\n  - {scanner: pii, threshold: 0.6}\n")
    assert a.digest == b.digest != c.digest


def test_unknown_scanner_names_file_line_and_field(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("name: bad\ninput:\n  - scanner: pii\n  - scanner: nope\n")
    with pytest.raises(ConfigError) as exc:
        load_policy(f)
    msg = str(exc.value)
    assert "p.yaml:4" in msg and "input.1.scanner" in msg and "nope" in msg and "pii" in msg


def test_bad_threshold_names_line_and_field(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("name: bad\noutput:\n  - scanner: toxicity\n    threshold: 1.5\n")
    with pytest.raises(ConfigError, match=r"p\.yaml:4: output\.0\.threshold"):
        load_policy(f)


def test_unknown_field_and_bad_action_are_errors():
    with pytest.raises(ConfigError, match="colour"):
        policy_from_text("name: x\ncolour: red\n")
    with pytest.raises(ConfigError, match="action"):
        policy_from_text("name: x\ninput:\n  - {scanner: pii, action: explode}\n")


def test_optional_scanner_is_skipped_with_a_note():
    p = policy_from_text(
        "name: x\noutput:\n  - {scanner: not-installed, optional: true}\n  - {scanner: pii}\n"
    )
    g = Guard(p)
    assert any("not-installed" in n for n in g.notes)
    assert list(g.scanners("output")) == ["pii"]


def test_factual_policy_names_citations_optionally():
    p = load_policy("factual")
    cit = [r for r in p.output if r.scanner == "citations"]
    assert cit and cit[0].optional
    if "citations" not in scanner_names():
        assert "citations" not in Guard(p).scanners("output")


def test_unknown_policy_name_and_missing_file():
    with pytest.raises(UnknownKeyError, match="shipped policies"):
        load_policy("no-such-policy")
    with pytest.raises(UnknownKeyError):
        load_policy("missing.yaml")


def test_bad_scanner_options_are_config_errors():
    p = policy_from_text("name: x\ninput:\n  - {scanner: pii, options: {colour: red}}\n")
    with pytest.raises(ConfigError, match="colour"):
        Guard(p)
    p = policy_from_text("name: x\ninput:\n  - {scanner: regex, options: {patterns: ['(']}}\n")
    with pytest.raises(ConfigError, match="invalid"):
        Guard(p)
