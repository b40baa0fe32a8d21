"""NMF: the estimator, following the scikit-learn protocol without importing it."""
import inspect

import numpy as np

from . import _validation as v
from ._exceptions import NotFittedError
from ._factorize import factorize
from ._scaling import reconstruction_error
from ._threads import get_num_threads


def hoyer_sparseness(A):
    """Hoyer's sparseness of all entries: (sqrt(N) - |x|_1 / |x|_2) / (sqrt(N) - 1).

    1 for a single non-zero entry, 0 when all entries are equal; 0 for a zero array.
    """
    x = np.abs(np.asarray(A, dtype=np.float64).ravel())
    if x.size <= 1 or not x.any():
        return 0.0
    x /= x.max()  # the measure is scale-free; squares of entries near 1e154 overflow
    sqrt_n = np.sqrt(x.size)
    return float((sqrt_n - x.sum() / np.linalg.norm(x)) / (sqrt_n - 1))


class NMF:
    """Non-negative matrix factorization: X ~ W @ H with W, H >= 0.

    Minimises 0.5 * ||X - WH||_Fro^2 plus an elastic-net penalty on both factors::

        alpha * l1_ratio * (||vec(W)||_1 + ||vec(H)||_1)
        + 0.5 * alpha * (1 - l1_ratio) * (||W||_Fro^2 + ||H||_Fro^2)

    Parameters
    ----------
    n_components : int or None, default=None
        The rank; None keeps all features.
    init : {'random', 'nndsvd', 'nndsvda', 'nndsvdar', 'custom'} or None, default=None
        None: 'nndsvd' when n_components < n_features and n_components <= n_samples,
        else 'random'. 'custom' uses the W and H given to fit_transform.
    solver : {'cd', 'pg'}, default='cd'
        Coordinate descent (HALS) or Lin's projected gradient.
    tol : float, default=1e-4
    max_iter : int, default=200
    random_state : None, int, RandomState or Generator
    alpha : float, default=0
    l1_ratio : float, default=0
    verbose : int, default=0
    shuffle : bool, default=False
    nls_max_iter : int, default=2000
    sparseness : {'data', 'components'} or None, default=None
    beta : float, default=1
    eta : float, default=0.1
    accelerated : bool, default=False
        See :func:`nmf.non_negative_factorization`.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        H.
    n_components_ : int
    n_features_in_ : int
        X's columns in the fit (the features transform expects).
    n_iter_ : int
        Iterations of the last fit (or transform).
    reconstruction_err_ : float
        ||X - WH||_Fro of the fit.
    comp_sparseness_, data_sparseness_ : float
        solver='pg' only: Hoyer's sparseness of H and of W.
    """

    def __init__(self, n_components=None, init=None, solver="cd", tol=1e-4, max_iter=200,
                 random_state=None, alpha=0.0, l1_ratio=0.0, verbose=0, shuffle=False,
                 nls_max_iter=2000, sparseness=None, beta=1, eta=0.1, accelerated=False):
        self.n_components = n_components
        self.init = init
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.verbose = verbose
        self.shuffle = shuffle
        self.nls_max_iter = nls_max_iter
        self.sparseness = sparseness
        self.beta = beta
        self.eta = eta
        self.accelerated = accelerated

    # ---- the estimator protocol ------------------------------------------------------
    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return sorted(p for p in signature.parameters if p != "self")

    def get_params(self, deep=True):
        """The constructor's parameters as a dict."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor parameters; unknown names raise ValueError."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{name!r} is not a parameter of NMF; valid ones: {valid}.")
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = inspect.signature(type(self).__init__).parameters
        changed = []
        for name in defaults:
            if name == "self":
                continue
            value, default = getattr(self, name), defaults[name].default
            same = value is default or (
                type(value) is type(default) and not isinstance(value, np.ndarray)
                and value == default)
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(),
                    input_tags=InputTags(sparse=True, positive_only=True))

    # ---- fitting ---------------------------------------------------------------------
    def _factorize(self, X, W, H, init, update_H, n_components):
        return factorize(
            X, W, H, n_components, init=init, update_H=update_H, solver=self.solver,
            tol=self.tol, max_iter=self.max_iter, alpha=self.alpha, l1_ratio=self.l1_ratio,
            regularization="both", random_state=self.random_state, verbose=self.verbose,
            shuffle=self.shuffle, nls_max_iter=self.nls_max_iter,
            sparseness=self.sparseness, beta=self.beta, eta=self.eta,
            accelerated=self.accelerated)

    def fit_transform(self, X, y=None, W=None, H=None):
        """Learn the factorization of X and return W.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : ignored
        W : array-like of shape (n_samples, n_components), optional
            Initial W with init='custom'.
        H : array-like of shape (n_components, n_features), optional
            Initial H with init='custom'.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
        """
        X, W, H, n_iter = self._factorize(X, W, H, self.init, True, self.n_components)
        self.components_ = H
        self.n_components_ = H.shape[0]
        self.n_features_in_ = H.shape[1]
        self.n_iter_ = n_iter
        self.reconstruction_err_ = reconstruction_error(X, W, H, get_num_threads())
        if self.solver == "pg":
            self.comp_sparseness_ = hoyer_sparseness(H)
            self.data_sparseness_ = hoyer_sparseness(W)
        return W

    def fit(self, X, y=None):
        """Learn the factorization of X; return self."""
        self.fit_transform(X)
        return self

    def _check_fitted(self):
        if not hasattr(self, "components_"):
            raise NotFittedError(
                "This NMF instance is not fitted yet; call fit or fit_transform first.")

    def transform(self, X):
        """W for new data X, solved with components_ fixed (W starts from zeros).

        Returns
        -------
        W : ndarray of shape (n_samples, n_components_)
        """
        self._check_fitted()
        _, W, _, n_iter = self._factorize(X, None, self.components_, self.init, False,
                                             self.n_components_)
        self.n_iter_ = n_iter
        return W

    def inverse_transform(self, W):
        """The data W stands for: W @ components_, of shape (n_samples, n_features).

        W must be finite and non-negative. Entries of the product beyond the range of
        its dtype (float32 for float32 W, else float64) -- a fit of X near that
        range's end, say -- are returned as the largest finite value, not inf.
        """
        self._check_fitted()
        W = v.check_dense(W, "W")
        if W.ndim != 2 or W.shape[1] != self.n_components_:
            raise ValueError(f"W must have shape (n_samples, {self.n_components_}); got {W.shape}.")
        dtype = v.float_dtype(W.dtype)
        largest = np.finfo(dtype).max
        W = v.check_nonnegative(W, dtype, "W", copy=None)
        H = self.components_
        if H.dtype != dtype:
            H = np.minimum(H, largest).astype(dtype)
        with np.errstate(over="ignore"):  # non-negative terms: an overflow is +inf
            product = W @ H
        return np.minimum(product, largest, out=product)
