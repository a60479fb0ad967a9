from __future__ import annotations

import numpy as np
import pytest
from overlap_helpers import CODE_A, CODE_A_RENAMED, CODE_B, UNRELATED

from probity.errors import InputError
from probity.overlap import CodeIndex, code_tokens, winnow


def test_renaming_and_reformatting_do_not_change_tokens():
    reformatted = CODE_A.replace("    ", "\t").replace("(1 + tax_rate)", "( 1+tax_rate )")
    assert code_tokens(CODE_A).tokens == code_tokens(reformatted).tokens
    t = code_tokens("x = foo(y, 'abc', 42)  # comment")
    assert t.tokens == ["V", "=", "V", "(", "V", ",", "S", ",", "N", ")"]


def test_winnowing_guarantee():
    rng = np.random.default_rng(0)
    h = rng.integers(0, 2**63, size=200, dtype=np.int64).astype(np.uint64)
    sel = winnow(h, 4)
    # every window of 4 hashes contains a selected position
    assert all(np.any((sel >= i) & (sel < i + 4)) for i in range(len(h) - 3))
    assert len(sel) < len(h) * 0.6


def test_renamed_clone_found_and_unrelated_not():
    idx = CodeIndex.build([("a.py", CODE_A), ("b.py", CODE_B)], k=8, w=4)
    hits = idx.query(CODE_A_RENAMED)
    assert hits and hits[0].doc == "a.py" and hits[0].similarity >= 0.6
    assert idx.query(UNRELATED) == []


def test_embedded_function_is_found_with_span():
    idx = CodeIndex.build([("a.py", CODE_A), ("b.py", CODE_B)], k=8, w=4)
    host = UNRELATED + "\n\n" + CODE_A_RENAMED + "\n\nif __name__ == '__main__':\n    main([])\n"
    hits = idx.query(host)
    assert hits and hits[0].doc == "a.py" and hits[0].source_containment >= 0.6
    start = host.index("def f(")
    end = start + len(CODE_A_RENAMED)
    inside = [(a, b, s) for a, b, s in hits[0].spans if a >= start - 5 and b <= end + 5]
    assert inside and all(s > 0.5 for _, _, s in inside)
    covered = sum(b - a for a, b, _ in inside)
    assert covered >= 0.6 * len(CODE_A_RENAMED)
    assert hits[0].longest_span_tokens >= 30


def test_unknown_language():
    with pytest.raises(InputError):
        code_tokens("x", "no-such-language")
