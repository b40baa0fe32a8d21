import numpy as np
import pytest
import scipy.sparse as sp

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
