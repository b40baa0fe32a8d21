"""Degenerate data handled on purpose: zeros, low rank, too many components, values
whose squares overflow, penalties beyond the dtype, factors that overflow."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf import NMF, ConvergenceWarning, NotFittedError
from nmf import non_negative_factorization as nnf

from _reference import objective
from _solvers import SOLVERS


def _objective_ld(X, W, H):
    """0.5 ||X - WH||^2 in long double: squares of 1e300 stay finite."""
    X = (X.toarray() if sp.issparse(X) else X).astype(np.longdouble)
    R = X - W.astype(np.longdouble) @ H.astype(np.longdouble)
    return 0.5 * np.sum(R * R)

INITS = ["random", "nndsvd", "nndsvda", "nndsvdar"]


def _data(n=12, m=9, rank=None, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.random((n, m)) if rank is None else rng.random((n, rank)) @ rng.random((rank, m))
    return X.astype(dtype)


def _fit(X, **kwargs):
    """nnf without warnings escaping (ConvergenceWarning is expected with few iterations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return nnf(X, **kwargs)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("init", INITS + [None])
def test_all_zero_X_gives_zero_factors_at_once(init, dtype, sparse, solver):
    X = np.zeros((6, 4), dtype)
    X = sp.csr_matrix(X) if sparse else X
    W, H, n_iter = nnf(X, n_components=3, init=init, random_state=0, solver=solver)
    assert W.dtype == H.dtype == dtype
    assert_array_equal(W, 0)
    assert_array_equal(H, 0)
    assert n_iter == 1  # nothing to reduce: converged at once, without a warning
    estimator = NMF(3, init=init, random_state=0, solver=solver).fit(X)
    assert estimator.reconstruction_err_ == 0.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_all_zero_X_from_a_custom_start_goes_to_zero(solver):
    X = np.zeros((5, 4))
    rng = np.random.default_rng(0)
    W, H, _ = _fit(X, W=rng.random((5, 2)), H=rng.random((2, 4)), init="custom",
                   n_components=2, max_iter=50, tol=0, solver=solver)
    assert objective(X, W, H) < 1e-20


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("init", INITS)
def test_zero_rows_and_columns_give_exactly_zero_factor_rows(init, sparse):
    """A HALS update of a row of W whose row of X is zero is max(0, -(positive)) = 0."""
    X = _data(10, 8)
    X[[2, 7]] = 0
    X[:, [0, 5]] = 0
    W, H, _ = _fit(sp.csc_matrix(X) if sparse else X, n_components=3, init=init,
                   random_state=0, max_iter=20)
    assert_array_equal(W[[2, 7]], 0)
    assert_array_equal(H[:, [0, 5]], 0)
    assert np.isfinite(W).all() and np.isfinite(H).all()


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("init", INITS)
def test_rank_below_n_components_fits_exactly_without_nan(init, solver):
    X = _data(15, 10, rank=2)
    W, H, _ = _fit(X, n_components=5, init=init, random_state=0, max_iter=2000, tol=1e-10,
                   solver=solver)
    assert np.isfinite(W).all() and np.isfinite(H).all()
    assert np.linalg.norm(X - W @ H) < 1e-3 * np.linalg.norm(X)


def test_nndsvd_leaves_components_beyond_the_rank_zero_and_cd_keeps_them_zero():
    X = _data(15, 10, rank=2)
    W, H, _ = _fit(X, n_components=5, init="nndsvd", random_state=0, max_iter=50)
    dead = (W == 0).all(axis=0) & (H == 0).all(axis=1)
    assert dead.sum() >= 1  # documented: X's rank is 2, the extra components stay zero


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda", "nndsvdar"])
@pytest.mark.parametrize("shape", [(4, 9), (9, 4)])
def test_nndsvd_with_more_components_than_min_shape_is_refused(init, shape):
    with pytest.raises(ValueError, match=rf"init='{init}' needs n_components <= "
                       r"min\(n_samples, n_features\) = 4; got n_components=5"):
        nnf(_data(*shape), n_components=5, init=init)
    with pytest.raises(ValueError, match="needs n_components <="):
        NMF(5, init=init).fit(_data(*shape))


def test_init_none_with_more_components_than_min_shape_falls_back_to_random():
    X = _data(4, 9)
    seeded = dict(n_components=5, random_state=0, max_iter=5)
    assert_array_equal(_fit(X, init=None, **seeded)[0], _fit(X, init="random", **seeded)[0])


# ---- magnitudes ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype, exponent", [
    (np.float64, 100),    # 4**100 ~ 1.6e60: inside the range, CD runs on X as it is
    (np.float64, 250),    # ~ 1e150: squares overflow float64, scaled internally
    (np.float64, -250),   # ~ 1e-150: squares underflow
    (np.float64, -300),   # ~ 2.4e-181: products underflow
    (np.float32, 14),     # ~ 2.7e8, inside the range
    (np.float32, 30),     # ~ 1.2e18: X @ H.T overflows float32
    (np.float32, 62),     # ~ 2e37, near float32's largest
    (np.float32, -40),    # ~ 8e-25
])
@pytest.mark.parametrize("init", ["random", "custom"])
@pytest.mark.parametrize("accelerated", [False, True])
def test_scaling_X_by_a_power_of_4_scales_the_factors_exactly(accelerated, dtype, exponent,
                                                              init):
    """CD is equivariant under X -> 4**e X, (W, H) -> 2**e (W, H): the factors of a huge
    or tiny X are the exact power-of-two image of those of an ordinary X, bit for bit."""
    X = _data(12, 9, dtype=dtype)
    rng = np.random.default_rng(1)
    W0, H0 = rng.random((12, 3)).astype(dtype), rng.random((3, 9)).astype(dtype)
    custom = dict(W=W0, H=H0) if init == "custom" else {}
    scaled_custom = dict(W=np.ldexp(W0, exponent), H=np.ldexp(H0, exponent)) \
        if init == "custom" else {}
    kwargs = dict(n_components=3, init=init, random_state=0, max_iter=30, tol=1e-3,
                  accelerated=accelerated)
    W, H, n_iter = _fit(X, **custom, **kwargs)
    X_scaled = np.ldexp(X, 2 * exponent)
    assert np.isfinite(X_scaled).all() and X_scaled.dtype == dtype
    W_s, H_s, n_iter_s = _fit(X_scaled, **scaled_custom, **kwargs)
    assert W_s.dtype == H_s.dtype == dtype
    assert n_iter_s == n_iter
    assert_array_equal(W_s, np.ldexp(W, exponent))
    assert_array_equal(H_s, np.ldexp(H, exponent))


@pytest.mark.parametrize("solver, sparseness", [(s, None) for s in SOLVERS] + [
    ("pg", "data"), ("pg", "components")] * ("pg" in SOLVERS))
def test_two_extreme_scalings_solve_the_same_normalised_problem(solver, sparseness):
    """X * 4**-200 and X * 4**200 are both solved as X scaled into [1, 4): with their
    penalties and sparseness weights scaled alike (L2-like terms by c, L1 by c**1.5),
    both solvers give factors that are exact powers of two of each other."""
    X = _data()
    rng = np.random.default_rng(0)
    W0, H0 = rng.random((12, 3)), rng.random((3, 9))
    results = []
    for exponent in (-200, 200):
        c = 4.0**exponent
        terms = dict(beta=2.0 * c, eta=0.5 * c) if sparseness else {}
        results.append(_fit(np.ldexp(X, 2 * exponent), W=np.ldexp(W0, exponent),
                            H=np.ldexp(H0, exponent), init="custom", n_components=3,
                            solver=solver, sparseness=sparseness, alpha=0.1 * c,
                            regularization="both", max_iter=20, nls_max_iter=50,
                            **terms))
    (W_tiny, H_tiny, n_tiny), (W_huge, H_huge, n_huge) = results
    assert n_tiny == n_huge and np.isfinite(W_huge).all()
    assert_array_equal(np.ldexp(W_tiny, 400), W_huge)
    assert_array_equal(np.ldexp(H_tiny, 400), H_huge)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e200), (np.float64, 1e300),
                                          (np.float64, 1.7e308), (np.float32, 1e30),
                                          (np.float32, 3e38), (np.float64, 1e-310),
                                          (np.float32, 1e-40)])
@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_huge_and_tiny_X_never_give_nan(solver, dtype, scale, init, sparse):
    X = (_data(10, 7) * scale / 1.0001).astype(dtype)
    X = sp.csr_matrix(X) if sparse else X
    estimator = NMF(3, init=init, random_state=0, max_iter=40, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no RuntimeWarning either
        warnings.simplefilter("ignore", ConvergenceWarning)
        W = estimator.fit_transform(X)
    H = estimator.components_
    assert W.dtype == H.dtype == dtype
    assert np.isfinite(W).all() and np.isfinite(H).all()
    assert W.any() and H.any()                   # not a degenerate all-zero answer
    error = np.sqrt(2 * _objective_ld(X, W, H))
    norm = np.sqrt(2 * _objective_ld(X, 0 * W, H))
    assert error < 0.5 * norm                    # a real fit, at X's own scale
    if np.isfinite(float(error)):
        floor = 4 * float(np.sqrt(np.finfo(dtype).eps)) * float(norm) if sparse else 0.0
        assert estimator.reconstruction_err_ == pytest.approx(float(error), rel=1e-3,
                                                              abs=floor)


def test_longdouble_beyond_float64_is_refused_clearly():
    X = np.ones((3, 3), np.longdouble)
    X[1, 2] = np.longdouble("1e400")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"X must not contain NaN or infinity \(its "
                           r"float128 entries are computed in float64"):
            nnf(X, n_components=1)


def test_custom_factors_beyond_float32_are_refused_clearly():
    X = _data(dtype=np.float32)
    with pytest.raises(ValueError, match=r"W must not contain NaN or infinity \(its "
                       "float64 entries are computed in float32"):
        nnf(X, np.full((12, 2), 1e300), np.ones((2, 9)), n_components=2, init="custom")


# ---- penalties -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("regularization", ["both", "components", "transformation"])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("alpha", [1e39, 1e300])
@pytest.mark.parametrize("solver", SOLVERS)
def test_penalties_beyond_the_dtype_give_finite_factors(solver, alpha, l1_ratio,
                                                        regularization, dtype):
    X = _data(dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, H, _ = nnf(X, n_components=3, alpha=alpha, l1_ratio=l1_ratio,
                      regularization=regularization, random_state=0, max_iter=50,
                      solver=solver)
    assert np.isfinite(W).all() and np.isfinite(H).all()
    if regularization == "both" and l1_ratio < 1:
        # The L2 term on both factors makes zero their only minimiser. (With pure L1,
        # once W is zero the curvature of H's coordinates is zero and CD, like the
        # textbook rule and scikit-learn, leaves H where it is.)
        assert np.abs(W).max() < 1e-6 and np.abs(H).max() < 1e-6
    penalised = {"both": W, "components": H, "transformation": W}[regularization]
    if l1_ratio == 1.0:  # an L1 penalty this large zeroes the first factor it meets
        assert_array_equal(penalised, 0)


# ---- factors the caller gives --------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("W_scale, H_scale", [(1e19, 1e19), (1e17, 1e22)])
def test_overflowing_custom_factors_are_refused_naming_them(W_scale, H_scale, solver):
    X = _data(dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # one clear error, no RuntimeWarning
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match=r"The factorization overflows float32: the "
                           r"W and H \(init='custom'\) given are too large, too small"
                           r" or too unbalanced|The W and H given \(init='custom'\) are"
                           r" too large for X's scale even rebalanced"):
            nnf(X, np.full((12, 2), W_scale), np.full((2, 9), H_scale), n_components=2,
                init="custom", max_iter=5, solver=solver)


@pytest.mark.parametrize("solver", SOLVERS)
def test_overflowing_fixed_H_is_refused_naming_it(solver):
    """H so small that W, about X / H, lies beyond float32's range."""
    X = _data(dtype=np.float32)
    with pytest.raises(ValueError, match=r"the fixed H \(update_H=False\) given is too"
                                         r" large, too small or too unbalanced"):
        _fit(X, H=np.full((2, 9), 1e-45, np.float32), update_H=False, max_iter=5,
             solver=solver)


@pytest.mark.parametrize("dtype, exponent", [(np.float64, -700), (np.float64, 700),
                                             (np.float64, -300), (np.float64, 300),
                                             (np.float32, -100), (np.float32, 90),
                                             (np.float32, -120)])
@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_fixed_H_far_from_X_scale_is_solved_as_its_power_of_two_image(dtype, exponent,
                                                                      l1_ratio):
    """A fixed H * 2**b: its Gram would under- or overflow, so H is solved rescaled,
    and with W's penalty rescaled alike W is the exact image W(H) * 2**-b of the
    solution with H, bit for bit (CD): the problem with H * 2**b and penalties l1, l2
    is the one with H and l1 * 2**-b, l2 * 4**-b in W * 2**b. Down to float32's
    largest (W about 2**124). Penalties only where b > 0: for b < 0 the equivalent
    penalty with H would pass the cap on penalties (nmf/_scaling.py)."""
    X = _data(dtype=dtype)
    H = (0.05 + np.random.default_rng(3).random((2, 9))).astype(dtype)
    H[0, 0] = 1.5                            # largest entry in [1, 2): solved as it is
    alpha = 0.25 if exponent > 0 else 0.0
    alpha_with_H = alpha * 2.0 ** (-exponent * (2 - l1_ratio)) if alpha else 0.0
    kwargs = dict(update_H=False, n_components=2, max_iter=50, tol=1e-6,
                  regularization="transformation", l1_ratio=l1_ratio)
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # no RuntimeWarning either
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, _, n_iter = nnf(X, H=H, alpha=alpha_with_H, **kwargs)
        H_far = np.ldexp(H, exponent)
        assert H_far.dtype == dtype and H_far.max() > 0
        W_far, H_back, n_far = nnf(X, H=H_far, alpha=alpha, **kwargs)
    assert W.max() > 0 and n_far == n_iter
    assert_array_equal(H_back, H_far)
    assert_array_equal(W_far, np.ldexp(W, -exponent))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype, H_scale", [(np.float64, 1e-100), (np.float32, 1e-20)])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_fixed_H_far_from_X_scale_with_a_penalty_past_the_cap(solver, dtype, H_scale,
                                                              l1_ratio):
    """alpha = 1e30 against H of 1e-100 (float32: 1e-20): rescaled with H, the penalty
    passes the cap, and W, about H / alpha (float64 1e-130), less than 2**-256 (float32
    2**-32) of X / H, is solved as zero: finite, no warning."""
    X = _data(dtype=dtype)
    H = (np.random.default_rng(7).random((2, 9)) * H_scale).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, _, _ = nnf(X, H=H, update_H=False, n_components=2, solver=solver, alpha=1e30,
                      l1_ratio=l1_ratio, regularization="transformation", max_iter=20)
    assert W.dtype == dtype
    assert_array_equal(W, 0)


@pytest.mark.parametrize("exponent", [-500, 500])
@pytest.mark.parametrize("sparseness", [None, "data", "components"])
def test_fixed_H_far_from_X_scale_pg(sparseness, exponent):
    """The same with pg, whose steps are not scale-free: not the same bits, the same W
    to the solver's tolerance (the subproblem has one solution). The sparseness
    weights, on the Gram like an L2 penalty, scale by 4**-b."""
    if "pg" not in SOLVERS:
        pytest.skip("pg not built")
    X = _data()
    H = np.random.default_rng(4).random((2, 9))
    weights = np.array([0.5, 0.25])
    kwargs = dict(update_H=False, n_components=2, solver="pg", max_iter=500, tol=1e-12,
                  sparseness=sparseness)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, _, _ = nnf(X, H=H, **dict(zip(("beta", "eta"), weights * 2.0**(-2 * exponent))),
                      **kwargs)
        W_far, _, _ = nnf(X, H=np.ldexp(H, exponent), **dict(zip(("beta", "eta"), weights)),
                          **kwargs)
    assert W.max() > 0
    assert_allclose(W_far, np.ldexp(W, -exponent), rtol=1e-7, atol=1e-9 * 2.0**-exponent)


@pytest.mark.parametrize("dtype, exponent, penalty", [
    (np.float64, 300, False), (np.float64, -300, False), (np.float64, 900, False),
    (np.float32, -60, False), (np.float32, 60, False),
    (np.float64, -300, True), (np.float64, -900, True), (np.float32, -60, True)])
def test_unbalanced_custom_factors_are_rebalanced_exactly(dtype, exponent, penalty):
    """W * 2**b and H * 2**-b, out of range: the start is rebalanced (W @ H kept), and
    CD gives the exact power-of-two image of the fit from W and H, the penalty on W
    rescaled to match (L1 on W * 2**b is L1 * 2**b on W); only for b < 0, where that
    stays under the cap on penalties."""
    X = _data(dtype=dtype)
    rng = np.random.default_rng(5)
    W0, H0 = rng.random((12, 3)).astype(dtype), rng.random((3, 9)).astype(dtype)
    W0[0, 0] = H0[0, 0] = 1.5               # largest entries in [1, 2): balanced
    alpha = 0.5 if penalty else 0.0
    kwargs = dict(n_components=3, init="custom", max_iter=30, tol=1e-6, l1_ratio=1.0,
                  regularization="transformation")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, H, n_iter = nnf(X, W0, H0, alpha=alpha * 2.0**exponent if alpha else 0.0,
                           **kwargs)
        W_far, H_far, n_far = nnf(X, np.ldexp(W0, exponent), np.ldexp(H0, -exponent),
                                  alpha=alpha, **kwargs)
    assert n_far == n_iter and W.max() > 0
    assert_array_equal(W_far, np.ldexp(W, exponent))
    assert_array_equal(H_far, np.ldexp(H, -exponent))


class _Stop(Exception):
    pass


@pytest.mark.parametrize("sparseness", [None, "data", "components"])
@pytest.mark.parametrize("exponent", [-300, 300])
def test_rebalanced_custom_factors_take_their_penalties_along(monkeypatch, sparseness,
                                                              exponent):
    """What pg is handed for W * 2**b, H * 2**-b (out of range): the balanced start W,
    H, and every term moved with the factor it acts on (L1 on W * 2**b, L2 on W and
    the weight on H's Gram * 4**b, those of H the other way), so that the problem is
    the one asked, in other units. Whether the solver then takes the same steps is
    another matter (pg's are not scale-free)."""
    import nmf._pg
    seen = {}

    def capture(X, W, Ht, **kwargs):
        seen.update(W=W.copy(), Ht=Ht.copy(), **kwargs)
        raise _Stop
    monkeypatch.setattr(nmf._pg, "fit_projected_gradient", capture)
    X = _data()
    rng = np.random.default_rng(9)
    W0, H0 = rng.random((12, 2)), rng.random((2, 9))
    W0[0, 0] = H0[0, 0] = 1.5
    with pytest.raises(_Stop):
        nnf(X, np.ldexp(W0, exponent), np.ldexp(H0, -exponent), n_components=2,
            init="custom", solver="pg", sparseness=sparseness, beta=2.0**-400,
            eta=2.0**-420, alpha=2.0**-400, l1_ratio=0.5, regularization="both")
    assert_array_equal(seen["W"], W0)
    assert_array_equal(seen["Ht"], H0.T)
    b, half = exponent, 2.0**-401           # no term reaches the cap either way
    assert (seen["l1_W"], seen["l2_W"]) == (half * 2.0**b, half * 4.0**b)
    assert (seen["l1_H"], seen["l2_H"]) == (half * 2.0**-b, half * 4.0**-b)
    if sparseness is not None:
        on_H_gram = {"data": "beta", "components": "eta"}[sparseness]   # W's subproblem
        on_W_gram = {"data": "eta", "components": "beta"}[sparseness]
        given = {"beta": 2.0**-400, "eta": 2.0**-420}
        assert seen[on_H_gram] == given[on_H_gram] * 4.0**b
        assert seen[on_W_gram] == given[on_W_gram] * 4.0**-b


@pytest.mark.parametrize("exponent", [-700, 700])
def test_custom_H_far_from_X_scale_with_W_zero_is_rescaled(exponent):
    """W zero and H * 2**b: W @ H is zero whatever H's scale, so H alone is brought
    into range; the fit is the exact image of the one from (0, H)."""
    X = _data()
    H0 = np.random.default_rng(8).random((2, 9))
    H0[0, 0] = 1.5
    kwargs = dict(n_components=2, init="custom", max_iter=20, tol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, H, n_iter = nnf(X, np.zeros((12, 2)), H0, **kwargs)
        W_far, H_far, n_far = nnf(X, np.zeros((12, 2)), np.ldexp(H0, exponent), **kwargs)
    assert n_far == n_iter and W.max() > 0
    assert_array_equal(W_far, np.ldexp(W, -exponent))
    assert_array_equal(H_far, np.ldexp(H, exponent))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_custom_factors_whose_product_is_far_from_X_are_refused(solver, scale):
    """W @ H about 1e-400 (or 1e400) of X: a start no rebalancing keeps in range."""
    X = _data()
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match=r"The W and H given \(init='custom'\) are too"
                                         r" (small|large) for X's scale even rebalanced"):
        nnf(X, rng.random((12, 2)) * scale, rng.random((2, 9)) * scale, n_components=2,
            init="custom", solver=solver)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e100), (np.float32, 1e30),
                                          (np.float32, 1e-30)])
def test_unbalanced_but_representable_custom_factors_are_solved(solver, dtype, scale):
    """W @ H of X's order, W and H far apart (float32: beyond the range of its Grams,
    rebalanced)."""
    X = _data(dtype=dtype)
    rng = np.random.default_rng(0)
    W0, H0 = ((rng.random((12, 2)) * scale).astype(dtype),
              (rng.random((2, 9)) / scale).astype(dtype))
    W, H, _ = _fit(X, W=W0, H=H0, n_components=2, init="custom", max_iter=20,
                   solver=solver)
    assert np.isfinite(W).all() and np.isfinite(H).all()
    assert W.dtype == H.dtype == dtype
    as64 = [a.astype(np.float64) for a in (X, W, H, W0, H0)]
    assert objective(*as64[:3]) <= objective(as64[0], *as64[3:])


# ---- sparse and dtype corner cases ---------------------------------------------------
def test_sparse_duplicates_are_summed_before_the_sign_check():
    """(-1) + 3 stored at one position is the entry 2: accepted, like its canonical form."""
    data, indices, indptr = np.array([-1.0, 3.0, 1.0]), np.array([0, 0, 1]), [0, 2, 3, 3]
    X = sp.csr_matrix((data, indices, indptr), shape=(3, 2))
    kept = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    W, H, _ = _fit(X, n_components=1, init="random", random_state=0, max_iter=5)
    W_c, H_c, _ = _fit(sp.csr_matrix(X.toarray()), n_components=1, init="random",
                       random_state=0, max_iter=5)
    assert_array_equal(W, W_c)
    assert_array_equal(H, H_c)
    for before, after in zip(kept, (X.data, X.indices, X.indptr)):
        assert_array_equal(before, after)  # the caller's matrix keeps its duplicates
    with pytest.raises(ValueError, match="X must be non-negative"):
        nnf(sp.csr_matrix((np.array([-3.0, 1.0]), np.array([0, 0]), [0, 2]), shape=(1, 1)))


@pytest.mark.parametrize("dtype", [">f4", ">f8"])
def test_big_endian_floats_keep_their_precision(dtype):
    X = _data().astype(dtype)
    native = np.dtype(dtype).newbyteorder("=")
    W, H, _ = _fit(X, n_components=3, random_state=0, max_iter=10)
    W_n, H_n, _ = _fit(X.astype(native), n_components=3, random_state=0, max_iter=10)
    assert W.dtype == native
    assert_array_equal(W, W_n)
    assert_array_equal(H, H_n)


def test_transform_with_the_wrong_number_of_features_names_X():
    estimator = NMF(2, random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(_data())
    with pytest.raises(ValueError, match="X has 5 features but the fixed H has 9 columns"):
        estimator.transform(_data(12, 5))


def test_methods_before_fit_raise_not_fitted_error():
    for method, argument in ((NMF().transform, _data()), (NMF().inverse_transform,
                                                          np.ones((2, 2)))):
        with pytest.raises(NotFittedError, match="not fitted yet") as info:
            method(argument)
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


@pytest.mark.parametrize("shape, k", [((1, 1), 1), ((1, 1), 5), ((1, 300), 4),
                                      ((300, 1), 4), ((2, 2), 7)])
@pytest.mark.parametrize("solver", SOLVERS)
def test_tiny_and_extreme_shapes(solver, shape, k):
    X = np.random.default_rng(0).random(shape) + 0.1
    W, H, _ = _fit(X, n_components=k, random_state=0, max_iter=300, tol=1e-8,
                   solver=solver)
    assert W.shape == (shape[0], k) and H.shape == (k, shape[1])
    assert np.linalg.norm(X - W @ H) <= 1e-3 * np.linalg.norm(X)  # rank-1-fittable X


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_reconstruction_error_of_sparse_X_with_duplicate_entries(fmt):
    """||X||^2 sums the squares of X's entries, not of the parts stored for one entry."""
    X = sp.csr_matrix((np.array([0.25, 0.5, 1.0]), np.array([0, 0, 1]), [0, 2, 3]),
                      shape=(2, 2)).asformat(fmt)  # X[0, 0] = 0.75 stored in two parts
    estimator = NMF(1, init="random", random_state=0, max_iter=5, tol=0)
    W = estimator.fit_transform(X)
    expected = np.linalg.norm(X.toarray() - W @ estimator.components_)
    assert estimator.reconstruction_err_ == pytest.approx(expected, rel=1e-6)
    assert not X.has_canonical_format  # the caller's matrix is left as it was


def test_inverse_transform_refuses_bad_W_and_saturates_beyond_the_dtype():
    X = np.full((2, 2), np.finfo(np.float32).max, dtype=np.float32)
    estimator = NMF(1, init="random", random_state=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        W = estimator.fit_transform(X)
        back = estimator.inverse_transform(W * 2)        # twice float32's largest
    assert back.dtype == np.float32 and (back == np.finfo(np.float32).max).all()
    for bad, message in ((np.full((2, 1), np.nan), "W must not contain NaN"),
                         (-W, "W must be non-negative")):
        with pytest.raises(ValueError, match=message):
            estimator.inverse_transform(bad)
