import pytest

from nmf import _products


@pytest.fixture(autouse=True)
def _parallel_even_on_small_problems(monkeypatch):
    """The kernels go parallel only past a work threshold that the tests' small
    problems never reach; lower it so that every test exercises the parallel paths
    (and the thread-count determinism tests compare real parallel runs)."""
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1)
