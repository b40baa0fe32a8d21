"""The one-pass range check (nmf/_range_fast.pyx, nmf/_range.h), every build of it
(SSE2, AVX2), and the validation paths that use it: X's range and the checked copies of
the caller's factors."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import nmf
from nmf import _validation as v
from nmf._range_fast import PIECE

from _builds import kernel_builds

BUILDS = kernel_builds("_range_fast")

# Lengths around the kernel's steps: 4 vectors of 8 floats, one vector, scalars, and
# the pieces threads share.
LENGTHS = [1, 2, 3, 7, 8, 9, 31, 32, 33, 100, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 37]


@pytest.mark.parametrize("build", BUILDS, ids=lambda module: module.__name__)
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_range_and_copy_match_numpy(build, n, dtype):
    value_range = build.value_range
    values = (np.random.default_rng(n).standard_normal(n) * 1e3).astype(dtype)
    for n_threads in (1, 2, 3):
        out = np.full(n, np.nan, dtype)
        smallest, largest = value_range(values, out, n_threads)
        assert (smallest, largest) == (float(values.min()), float(values.max()))
        assert type(smallest) is float and type(largest) is float
        assert_array_equal(out, values)
        assert value_range(values, None, n_threads) == (smallest, largest)


@pytest.mark.parametrize("build", BUILDS, ids=lambda module: module.__name__)
@pytest.mark.parametrize("position", [0, 5, 8, 31, 32, 33, PIECE - 1, PIECE, 2 * PIECE + 10])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_any_extreme_entry_is_found_wherever_it_is(build, position, dtype):
    value_range = build.value_range
    n = 2 * PIECE + 11
    for special, expected in [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf"),
                              (-1.0, "-1"), (5.0, "5")]:
        values = np.random.default_rng(position).random(n).astype(dtype)
        values[position] = special
        for n_threads in (1, 2):
            smallest, largest = value_range(values, None, n_threads)
            if expected == "nan":
                assert np.isnan(smallest) and np.isnan(largest)
            elif expected in ("inf", "5"):
                assert largest == special and smallest == float(np.delete(values, position).min())
            else:
                assert smallest == special and largest == float(np.delete(values, position).max())


def test_read_only_and_memory_mapped_input(tmp_path):
    value_range = BUILDS[-1].value_range
    values = np.random.default_rng(0).random(PIECE + 3)
    values.flags.writeable = False
    assert value_range(values) == (values.min(), values.max())
    path = tmp_path / "values.npy"
    np.save(path, values)
    mapped = np.load(path, mmap_mode="r")
    assert value_range(mapped, np.empty_like(values), 2) == (values.min(), values.max())


def test_empty_and_bad_buffers():
    value_range = BUILDS[-1].value_range
    assert value_range(np.empty(0)) == (np.inf, -np.inf)
    values = np.arange(10.0)
    with pytest.raises(ValueError, match="out must have 10 entries"):
        value_range(values, np.empty(9))
    with pytest.raises(ValueError, match="out must not overlap values"):
        value_range(values, values)
    with pytest.raises(ValueError, match="Buffer dtype mismatch"):
        value_range(values, np.empty(10, np.float32))


# ---- validation on top of it ---------------------------------------------------------------

@pytest.fixture(params=["kernel", "numpy"])
def range_path(request, monkeypatch):
    """Validation through the compiled range check (every array large enough) or through
    NumPy's min and max (none), whatever the arrays' sizes."""
    size = 0 if request.param == "kernel" else np.iinfo(np.int64).max
    monkeypatch.setattr(v, "_RANGE_KERNEL_SIZE", size)
    return request.param


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, ">f8", np.int64])
def test_checked_factor_is_a_c_ordered_copy_in_every_layout(range_path, transposed, order,
                                                            dtype):
    A = np.asarray(np.random.default_rng(1).integers(0, 9, (37, 5)), dtype=dtype, order=order)
    before = A.copy()
    compute = np.float32 if np.dtype(dtype) == np.float32 else np.float64
    copy, largest = v.check_factor(A, A.shape, compute, "W", transposed=transposed)
    expected = A.T if transposed else A
    assert largest == float(A.astype(compute).max())
    assert copy.dtype == compute and copy.flags.c_contiguous
    assert not np.shares_memory(copy, A)
    assert_array_equal(copy, expected.astype(compute))
    assert_array_equal(A, before)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_checked_factor_refuses_negative_and_non_finite_entries(range_path, transposed, dtype):
    for bad, message in [(-0.5, "W must be non-negative; its smallest entry is -0.5"),
                         (np.nan, "W must not contain NaN or infinity"),
                         (np.inf, "W must not contain NaN or infinity")]:
        A = np.ones((40, 3), dtype)
        A[33, 2] = bad
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            v.check_factor(A, A.shape, dtype, "W", transposed=transposed)


def test_X_range_is_found_for_dense_and_sparse_X(range_path):
    import scipy.sparse as sp
    X = np.random.default_rng(2).random((300, 200))
    X[17, 3] = 7.5
    for given in (X, np.asfortranarray(X), sp.csr_matrix(X), sp.csc_matrix(X)):
        assert v.check_X_range(given)[1] == 7.5
    X[4, 4] = -2.0
    with pytest.raises(ValueError, match=r"X must be non-negative; its smallest entry is -2\.0"):
        v.check_X_range(X)


def test_fits_from_custom_factors_are_unchanged_by_the_thread_count(range_path):
    X = np.random.default_rng(3).random((PIECE // 16, 40))
    W0 = np.random.default_rng(4).random((X.shape[0], 6))
    H0 = np.random.default_rng(5).random((6, 40))
    results = []
    for n_threads in (1, 2):
        nmf.set_num_threads(n_threads)
        try:
            results.append(nmf.non_negative_factorization(
                X, W0, H0, n_components=6, init="custom", tol=0, max_iter=3)[:2])
        finally:
            nmf.set_num_threads(None)
    for a, b in zip(*results):
        assert_array_equal(a, b)


def test_small_arrays_skip_the_kernels_call():
    assert v._flat(np.ones(v._RANGE_KERNEL_SIZE - 1)) is None
    assert v._flat(np.ones(v._RANGE_KERNEL_SIZE)) is not None
    assert v._flat(np.ones(v._RANGE_KERNEL_SIZE, ">f8")) is None
    assert v._flat(np.ones(v._RANGE_KERNEL_SIZE, np.int64)) is None
    assert v._flat(np.ones((2, v._RANGE_KERNEL_SIZE))[:, ::2]) is None
