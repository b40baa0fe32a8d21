import numpy as np
import pytest
import scipy.sparse as sp

from nmf import _validation as v
from nmf._validation import check_X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_X_is_used_as_it_is_when_it_can_be(dtype):
    X = np.random.default_rng(0).random((6, 4)).astype(dtype)
    for form in (X, np.asfortranarray(X)):
        assert check_X(form) is form
    for form in (sp.csr_matrix(X), sp.csc_matrix(X), sp.csr_array(X), sp.csc_array(X)):
        checked = check_X(form)
        assert checked is form and checked.data is form.data


def test_X_is_converted_once_when_it_must_be():
    X = np.random.default_rng(0).random((6, 4))
    strided = X[:, ::2]
    checked = check_X(strided)
    assert checked.flags.c_contiguous and not np.shares_memory(checked, X)
    assert check_X(X.astype(np.int32)).dtype == np.float64
    assert check_X(sp.coo_matrix(X)).format == "csr"
    assert check_X(sp.csr_matrix(X.astype(np.int64))).dtype == np.float64


def test_large_finite_values_whose_sum_overflows_are_accepted():
    X = np.full((4, 4), 1e308)
    assert check_X(X) is X
    X[2, 3] = np.inf
    with pytest.raises(ValueError, match="X must not contain NaN or infinity"):
        check_X(X)


@pytest.mark.parametrize("make", [
    lambda: np.array([[0.0, 3.5], [2.0, 1.0]]),
    lambda: np.asfortranarray(np.array([[0.0, 3.5], [2.0, 1.0]], np.float32)),
    lambda: sp.csr_matrix(np.array([[0.0, 3.5], [2.0, 1.0]])),
    # duplicates summed first: (-1) + 4.5 at one position is the entry 3.5
    lambda: sp.csr_matrix(([-1.0, 4.5, 2.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2)),
])
def test_check_X_range_gives_the_largest_entry_the_scaling_needs(make):
    X, largest = v.check_X_range(make())
    assert largest == 3.5 and isinstance(largest, float)
    dense = X.toarray() if sp.issparse(X) else X
    assert largest == dense.max()


def test_check_X_range_of_a_sparse_X_without_entries_is_zero():
    assert v.check_X_range(sp.csr_matrix((3, 2)))[1] == 0.0
