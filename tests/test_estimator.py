"""NMF: fitting, attributes, and the scikit-learn estimator protocol."""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf import NMF, non_negative_factorization


def _X(n=30, m=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 3)) @ rng.random((3, m)) + 0.05 * rng.random((n, m))


def test_fit_sets_the_attributes():
    X = _X()
    model = NMF(n_components=3, random_state=0, max_iter=500)
    assert model.fit(X) is model
    assert model.components_.shape == (3, 12)
    assert model.n_components_ == 3
    assert 1 <= model.n_iter_ <= 500
    W = model.transform(X)
    assert_allclose(model.reconstruction_err_, np.linalg.norm(X - W @ model.components_),
                    rtol=1e-2)


def test_fit_transform_equals_the_function_with_both_factors_regularized():
    X = _X()
    kw = dict(n_components=3, random_state=0, alpha=0.1, l1_ratio=0.3, tol=0, max_iter=30)
    W = NMF(**kw).fit_transform(X)
    W_ref, _, _ = non_negative_factorization(X, init=None, regularization="both", **kw)
    assert_array_equal(W, W_ref)


def test_n_features_in_is_the_columns_of_the_fitted_X():
    X = _X()
    model = NMF(n_components=2, random_state=0, max_iter=5, tol=0).fit(X)
    assert model.n_features_in_ == X.shape[1] == model.components_.shape[1]
    assert not hasattr(NMF(), "n_features_in_")


@pytest.mark.parametrize("to_sparse", [False, True])
def test_reconstruction_err_is_the_frobenius_norm(to_sparse):
    X = _X()
    X[X < 0.8] = 0
    data = sp.csr_matrix(X) if to_sparse else X
    model = NMF(n_components=3, random_state=0, max_iter=50, tol=0)
    W = model.fit_transform(data)
    assert_allclose(model.reconstruction_err_, np.linalg.norm(X - W @ model.components_),
                    rtol=1e-10)


def test_transform_solves_W_with_the_components_fixed():
    X = _X()
    model = NMF(n_components=3, random_state=0, max_iter=1000, tol=1e-8).fit(X)
    H = model.components_.copy()
    W = model.transform(X)
    assert_array_equal(model.components_, H)
    W_ref, _, _ = non_negative_factorization(X, H=H, update_H=False, max_iter=1000,
                                             tol=1e-8, alpha=0.0, regularization="both")
    assert_array_equal(W, W_ref)
    assert_allclose(model.inverse_transform(W), X, atol=0.1)


def test_custom_init_through_fit_transform():
    X = _X()
    W0, H0 = np.full((30, 3), 0.5), np.full((3, 12), 0.5)
    H0[0, 0] = 1.0
    W = NMF(n_components=3, init="custom", tol=0, max_iter=10).fit_transform(X, W=W0, H=H0)
    W_ref, _, _ = non_negative_factorization(X, W0, H0, init="custom", tol=0, max_iter=10,
                                             regularization="both")
    assert_array_equal(W, W_ref)


def test_inverse_transform_checks_its_input():
    model = NMF(n_components=3, random_state=0, max_iter=20, tol=0).fit(_X())
    with pytest.raises(ValueError, match=r"W must have shape \(n_samples, 3\)"):
        model.inverse_transform(np.ones((4, 2)))
    assert model.inverse_transform(np.ones((4, 3), dtype=np.float32)).dtype == np.float32


def test_unfitted_estimator_raises():
    for method in ("transform", "inverse_transform"):
        with pytest.raises(AttributeError, match="not fitted yet"):
            getattr(NMF(), method)(np.ones((2, 2)))


def test_parameters_are_validated_in_fit_not_in_init():
    model = NMF(solver="nope", n_components=-1)
    with pytest.raises(ValueError, match="solver must be one of"):
        model.fit(_X())


def test_get_params_set_params_and_repr():
    model = NMF(n_components=4, random_state=0)
    params = model.get_params()
    assert params["n_components"] == 4 and params["solver"] == "cd"
    assert set(params) == {"n_components", "init", "solver", "tol", "max_iter",
                           "random_state", "alpha", "l1_ratio", "verbose", "shuffle",
                           "nls_max_iter", "sparseness", "beta", "eta", "accelerated"}
    assert repr(model) == "NMF(n_components=4, random_state=0)"
    assert repr(NMF()) == "NMF()"
    assert model.set_params(alpha=0.5, tol=1e-3) is model
    assert model.alpha == 0.5 and "alpha=0.5" in repr(model)
    with pytest.raises(ValueError, match="'colour' is not a parameter of NMF"):
        model.set_params(colour="red")


def test_pickle_round_trip():
    model = NMF(n_components=3, random_state=0, max_iter=30, tol=0).fit(_X())
    clone = pickle.loads(pickle.dumps(model))
    assert_array_equal(clone.components_, model.components_)
    assert clone.get_params() == model.get_params()
    assert_array_equal(clone.transform(_X()), model.transform(_X()))


def test_scikit_learn_clone_and_pipeline():
    base = pytest.importorskip("sklearn.base")
    pipeline = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    model = NMF(n_components=3, random_state=0, max_iter=50, tol=0)
    copy = base.clone(model)
    assert copy is not model and copy.get_params() == model.get_params()
    pipe = pipeline.make_pipeline(preprocessing.MinMaxScaler(), model)
    W = pipe.fit_transform(_X())
    assert W.shape == (30, 3) and (W >= 0).all()
    assert_allclose(pipe.transform(_X()), W, rtol=0.1, atol=0.05)
