import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nmf._cd_fast import cd_sweep

from _reference import hals_sweep

TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _problem(dtype, n=30, k=4, m=20, seed=0):
    rng = np.random.default_rng(seed)
    W, H, X = (rng.random(s).astype(dtype) for s in [(n, k), (k, m), (n, m)])
    W[rng.random(W.shape) < 0.2] = 0          # some active bounds
    gram, cross = H @ H.T, X @ H.T
    for a in (gram, cross):
        a.setflags(write=False)                  # read-only input must be accepted
    return W, gram, cross


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 4])
@pytest.mark.parametrize("order", [[0, 1, 2, 3], [2, 0, 3, 1]])
def test_cd_sweep_matches_reference(dtype, n_threads, order):
    W, gram, cross = _problem(dtype)
    expected, expected_violation = hals_sweep(W.astype(np.float64), gram, cross, order)
    violation = cd_sweep(W, gram, cross, np.array(order, dtype=np.intp), np.empty(30),
                         n_threads)
    assert W.dtype == dtype
    assert_allclose(W, expected, rtol=TOL[dtype], atol=TOL[dtype])
    assert violation == pytest.approx(expected_violation, rel=10 * TOL[dtype])


def test_cd_sweep_same_bits_for_any_thread_count():
    results = []
    for n_threads in (1, 2, 3, 8):
        W, gram, cross = _problem(np.float64, n=500, k=7, m=40, seed=1)
        violation = cd_sweep(W, gram, cross, np.arange(7, dtype=np.intp), np.empty(500),
                             n_threads)
        results.append((W, violation))
    for W, violation in results[1:]:
        assert_array_equal(W, results[0][0])
        assert violation == results[0][1]


def test_cd_sweep_skips_components_with_zero_curvature():
    W, gram, cross = _problem(np.float64)
    gram = gram.copy()
    gram[1, :] = gram[:, 1] = 0                # a dead component of the other factor
    before = W[:, 1].copy()
    cd_sweep(W, gram, cross, np.arange(4, dtype=np.intp), np.empty(30))
    assert_array_equal(W[:, 1], before)
    assert np.isfinite(W).all()


@pytest.mark.parametrize("bad, message", [
    (dict(gram=np.ones((3, 3))), "gram must have shape"),
    (dict(cross=np.ones((29, 4))), "cross must have shape"),
    (dict(order=np.arange(3, dtype=np.intp)), "order must have 4 entries"),
    (dict(order=np.array([0, 1, 2, 4], dtype=np.intp)), "order must hold"),
    (dict(order=np.array([0, -1, 2, 3], dtype=np.intp)), "order must hold"),
    (dict(row_violation=np.empty(5)), "row_violation must have 30"),
])
def test_cd_sweep_rejects_wrong_shapes(bad, message):
    W, gram, cross = _problem(np.float64)
    args = dict(W=W, gram=gram, cross=cross, order=np.arange(4, dtype=np.intp),
                row_violation=np.empty(30))
    args.update(bad)
    with pytest.raises(ValueError, match=message):
        cd_sweep(**args)


def test_cd_sweep_rejects_mixed_dtypes_and_layouts():
    W, gram, cross = _problem(np.float64)
    order, buffer = np.arange(4, dtype=np.intp), np.empty(30)
    with pytest.raises((ValueError, TypeError)):
        cd_sweep(W.astype(np.float32), gram, cross, order, buffer)
    with pytest.raises((ValueError, TypeError)):
        cd_sweep(np.asfortranarray(W), gram, cross, order, buffer)
    with pytest.raises((ValueError, TypeError)):
        cd_sweep(W, gram, cross, order.astype(np.int32), buffer)

