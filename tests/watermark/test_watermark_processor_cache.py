"""The KGW processor's per-context cache: bit-identical outputs, bounded, counted."""

from __future__ import annotations

import numpy as np
import pytest

from probity.watermark import make_scheme

torch = pytest.importorskip("torch")

V = 1000


def _reference(proc, ids, scores):
    """Today's (uncached) processor maths, written out: green mask -> dtype -> add."""
    green = proc.green(ids, scores.shape[-1]).to(scores.dtype)
    if proc.hard:
        return scores + torch.log(green)
    return scores.add(green, alpha=proc.delta)


def _steps(rng, batch: int, h: int, n: int):
    """Contexts from a small pool (repeats, duplicates within a batch) mixed with fresh ones."""
    pool = rng.integers(0, V, size=(6, h))
    for _ in range(n):
        ids = rng.integers(0, V, size=(batch, h + 5))
        pick = rng.random(batch) < 0.6
        ids[pick, -h:] = pool[rng.integers(0, len(pool), size=int(pick.sum()))]
        yield torch.from_numpy(ids)


def _bits(t):
    return t.view(torch.int16 if t.element_size() == 2 else torch.int32).numpy()


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("h", [1, 3])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize("cache_rows", [None, 5])
def test_cached_processor_is_bit_identical_to_uncached(
    hard: bool, h: int, dtype: str, cache_rows: int | None
) -> None:
    dt = getattr(torch, dtype)
    s = make_scheme("kgw", 7, gamma=0.3, delta=1.37, hard=hard, context_width=h)
    kw = {} if cache_rows is None else {"cache_bytes": cache_rows * V * torch.finfo(dt).bits // 8}
    proc = s.logits_processor(V, **kw)
    plain = s.logits_processor(V, cache_bytes=0)
    rng = np.random.default_rng(h + 10 * hard)
    for ids in _steps(rng, 4, h, 40):
        scores = torch.from_numpy(rng.normal(size=(4, V)) * 5).to(dt)
        scores[0, :3] = torch.tensor([-0.0, float("-inf"), float("nan")], dtype=dt)
        got = proc(ids, scores.clone())
        want = _reference(proc, ids, scores)
        assert got.dtype == want.dtype and got.shape == want.shape
        if dt == torch.float64:
            np.testing.assert_array_equal(
                got.view(torch.int64).numpy(), want.view(torch.int64).numpy()
            )
        else:
            np.testing.assert_array_equal(_bits(got), _bits(want))
        np.testing.assert_array_equal(
            _bits(plain(ids, scores).to(torch.float32)), _bits(want.to(torch.float32))
        )
        one = proc(ids[2:3], scores[2:3])  # batch 1 takes the no-copy path
        np.testing.assert_array_equal(
            _bits(one.to(torch.float32)), _bits(want[2:3].to(torch.float32))
        )
    info = proc.cache_info()
    assert info["hits"] > 0 and info["misses"] > 0
    assert info["bytes"] <= info["max_bytes"] or info["entries"] == 1
    if cache_rows is not None:
        assert info["entries"] <= cache_rows


def test_numpy_adjuster_agrees_with_cached_processor_over_many_steps() -> None:
    s = make_scheme("kgw", 3, gamma=0.25, delta=2.0)
    proc = s.logits_processor(V)
    adj = s.adjuster(V)
    rng = np.random.default_rng(5)
    for ids in _steps(rng, 3, 1, 30):
        scores = torch.from_numpy(rng.normal(size=(3, V)).astype(np.float32))
        out = proc(ids, scores)
        green_proc = (out != scores).numpy()  # delta 2 moves every green logit
        np.testing.assert_array_equal(green_proc, adj.green(ids.numpy(), V))
        np.testing.assert_array_equal(
            adj(ids.numpy(), scores.double().numpy()), scores.double().numpy() + 2.0 * green_proc
        )
    assert proc.cache_info()["hit_rate"] > 0.3


def test_cache_is_bounded_and_batches_larger_than_it_still_work() -> None:
    s = make_scheme("kgw", 1)
    proc = s.logits_processor(V, cache_bytes=3 * V * 4)  # three float32 rows
    rng = np.random.default_rng(0)
    for _ in range(20):
        ids = torch.from_numpy(rng.integers(0, V, size=(2, 4)))
        scores = torch.randn(2, V)
        assert torch.equal(proc(ids, scores), _reference(proc, ids, scores))
        assert len(proc.rows) <= 3 and proc.cache_info()["bytes"] <= 3 * V * 4
    ids = torch.from_numpy(rng.integers(0, V, size=(8, 4)))  # 8 contexts > 3 slots: uncached
    scores = torch.randn(8, V)
    assert torch.equal(proc(ids, scores), _reference(proc, ids, scores))
    # a different vocabulary size or dtype starts a new slab; results stay identical
    ids = torch.from_numpy(rng.integers(0, 500, size=(2, 4)))
    scores = torch.randn(2, 500, dtype=torch.float64)
    assert torch.equal(proc(ids, scores), _reference(proc, ids, scores))
    assert proc.rows.slab.shape[1] == 500 and proc.rows.slab.dtype == torch.float64


def test_repeated_context_hits_the_cache_and_selfhash_is_not_cached() -> None:
    proc = make_scheme("kgw", 1, context_width=2).logits_processor(V)
    ids = torch.tensor([[5, 6, 7], [1, 6, 7]])
    scores = torch.randn(2, V)
    first = proc(ids, scores)
    # the same context twice in one batch: one PRF (a miss), the second row counts as a hit;
    # a first miss is only remembered, not stored (admission on the second miss)
    assert (proc.cache_info()["misses"], proc.cache_info()["hits"]) == (1, 1)
    assert len(proc.rows) == 0
    assert torch.equal(proc(ids, scores), first)
    assert (proc.cache_info()["misses"], proc.cache_info()["hits"]) == (2, 2)
    assert len(proc.rows) == 1
    assert torch.equal(proc(ids, scores), first)
    assert (proc.cache_info()["misses"], proc.cache_info()["hits"]) == (2, 4)
    sh = make_scheme("kgw", 1, seeding="selfhash", context_width=2).logits_processor(V)
    assert torch.equal(sh(ids, scores), _reference(sh, ids, scores))
    assert sh.cache_info()["hits"] + sh.cache_info()["misses"] == 0


@pytest.mark.parametrize("h", [1, 2, 4])
def test_scalar_context_seeds_equal_the_numpy_ones(h: int) -> None:
    from probity.watermark import _prf as P

    rng = np.random.default_rng(h)
    ctx = rng.integers(0, 2**31, size=(200, h))
    k0, k1 = (int(v) for v in rng.integers(0, 2**63, size=2, dtype=np.uint64))
    k0 |= 1 << 63  # exercise the top bit
    want = P.left_context_np(ctx, k0, k1).tolist()
    assert [P.left_context_py(tuple(int(t) for t in r), k0, k1) for r in ctx] == want
