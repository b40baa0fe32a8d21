import pytest

from nmf import _products

# The package's own value, before the autouse fixture below lowers it.
_SMALL_PRODUCT_WORK = _products.SMALL_PRODUCT_WORK


@pytest.fixture(autouse=True)
def _parallel_even_on_small_problems(monkeypatch):
    """The kernels go parallel only past a work threshold that the tests' small
    problems never reach, and dense products that small go to BLAS, not nmf's kernels;
    lower both so that every test exercises the parallel paths and nmf's dense kernels
    (and the thread-count determinism tests compare real parallel runs)."""
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(_products, "SMALL_PRODUCT_WORK", 0)


@pytest.fixture
def small_products_in_blas(monkeypatch):
    """SMALL_PRODUCT_WORK as the package has it: small dense products go to BLAS."""
    monkeypatch.setattr(_products, "SMALL_PRODUCT_WORK", _SMALL_PRODUCT_WORK)
