"""Files follow the umask; secrets stay 0600 whatever the umask (attack: a permissive umask)."""

from __future__ import annotations

import os
import stat

import pytest

from probity.io import write_json_atomic, write_text_atomic


@pytest.fixture
def umask():
    def set_(value: int) -> None:
        os.umask(value)

    old = os.umask(0o022)
    yield set_
    os.umask(old)


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o000, 0o666)])
def test_outputs_follow_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    write_text_atomic(tmp_path / "r.html", "<p>report</p>")
    assert _mode(tmp_path / "r.html") == expected


def test_secrets_are_0600_even_under_a_permissive_umask(tmp_path, umask, probity_home):
    umask(0o000)
    write_json_atomic(tmp_path / "s.json", {"k": 1}, permissions=0o600)
    assert _mode(tmp_path / "s.json") == 0o600
    from probity.watermark import new_key

    key = new_key("secret-under-umask-0")
    assert _mode(key.path) == 0o600


def test_the_keys_folder_is_private(umask, probity_home):
    umask(0o000)
    from probity.home import keys_dir

    assert _mode(keys_dir()) == 0o700


def test_every_private_key_file_is_0600_under_a_permissive_umask(umask, probity_home):
    # issue 22: the signing keystore, the C2PA identity's key.pem and the demo gateway key go
    # through atomic_write(permissions=0o600): never readable by others, not even mid-write.
    umask(0o000)
    from probity.home import keys_dir
    from probity.signing.keystore import PURPOSE_FILES, load_purpose_key
    from probity.watermark.content_credentials import load_or_create_identity

    load_purpose_key("audit")
    assert _mode(keys_dir() / PURPOSE_FILES["audit"]) == 0o600
    load_or_create_identity()
    assert _mode(keys_dir() / "c2pa" / "key.pem") == 0o600
    assert _mode(keys_dir() / "c2pa" / "ca.pem") == 0o666  # public: follows the umask
