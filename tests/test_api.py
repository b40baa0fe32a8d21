import numpy as np
import pytest

import nmf


def test_public_names():
    assert {"NMF", "non_negative_factorization", "ConvergenceWarning", "set_num_threads",
            "get_num_threads"} <= set(nmf.__all__)
    assert issubclass(nmf.ConvergenceWarning, UserWarning)
    assert isinstance(nmf.__version__, str)


def test_thread_setting():
    default = nmf.get_num_threads()
    assert default >= 1
    try:
        nmf.set_num_threads(3)
        assert nmf.get_num_threads() == 3
    finally:
        nmf.set_num_threads(None)
    assert nmf.get_num_threads() == default
    for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError),
                       ("2", TypeError), (True, TypeError), (np.int64(0), ValueError)):
        with pytest.raises(error, match="n_threads must be a positive integer or None"):
            nmf.set_num_threads(bad)
    try:
        nmf.set_num_threads(np.int64(2))        # NumPy integers are integers
        assert nmf.get_num_threads() == 2
    finally:
        nmf.set_num_threads(None)


def test_no_runtime_dependency_beyond_numpy_and_scipy(tmp_path):
    import subprocess
    import sys
    code = ("import sys, nmf, numpy as np; nmf.NMF(2, max_iter=5, tol=0).fit(np.ones((4, 3)));"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('sklearn', 'threadpoolctl', 'matplotlib')];"
            "print(bad); sys.exit(1 if bad else 0)")
    # cwd outside the source tree, so that the installed package is imported
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
