"""The built-in example: its data, its topics, and `nmf` printing them."""
import hashlib
import os
import pathlib
import re
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf import _example

_DATA = resources.files("nmf").joinpath("data")
_FILES = ("example_tfidf.npz", "example_terms.txt.gz", "example_packages.txt.gz")


def test_load_example():
    X, terms, packages = _example.load_example()
    assert sp.issparse(X) and X.format == "csr" and X.dtype == np.float32
    assert X.shape == (len(packages), len(terms)) == (2000, 3194)
    assert X.nnz == 49115 and X.data.min() > 0
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    assert_allclose(norms, 1, rtol=1e-6)  # every row a unit vector
    assert len(set(terms)) == len(terms) and len(set(packages)) == len(packages)
    assert all(term and term == term.strip() for term in terms)
    # Each kept term is used by at least 3 documents.
    assert np.bincount(X.indices, minlength=X.shape[1]).min() >= 3
    assert "python" in terms and "python3-numpy" not in terms


def test_data_files_are_small_and_match_their_readme():
    readme = _DATA.joinpath("README.md").read_text(encoding="utf-8")
    total = 0
    for name in _FILES:
        content = _DATA.joinpath(name).read_bytes()
        total += len(content)
        digest = hashlib.sha256(content).hexdigest()[:16]
        assert re.search(rf"\| `{re.escape(name)}` \| {len(content)} \| `{digest}` \|", readme)
    assert total < 300_000


def test_largest():
    assert_array_equal(_example.largest(np.array([0.5, 0, 2.0, 0.5, 1.0]), 3), [2, 4, 0])
    assert_array_equal(_example.largest(np.array([0, 3.0, 0]), 3), [1])  # zeros left out


def test_topics():
    W = np.array([[1.0, 0], [0, 2], [3, 1]])
    H = np.array([[0, 1.0, 2], [5, 0, 1]])
    topics = _example.topics(W, H, ["a", "b", "c"], ["p", "q", "r"], n_terms=2, n_packages=2)
    assert topics == [(["c", "b"], ["r", "p"]), (["a", "c"], ["q", "r"])]


def test_nmf_without_arguments_prints_topics(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nmf"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("Built-in example: TF-IDF of 2000 Debian package descriptions,"
                        " 3194 terms, 0.77% non-zero (float32).")
    assert lines[1].startswith("10 components (solver 'cd', init 'nndsvd'), each with")
    topics = [line.split()[1:] for line in lines if re.match(r"^ ?\d+  \S", line)]
    examples = [line for line in lines if re.match(r"^ +e\.g\. \S+, \S+, \S+$", line)]
    assert len(topics) == len(examples) == 10
    assert all(len(words) == 8 for words in topics)
    # Readable topics: the ecosystems of the archive come out as components.
    found = {word for words in topics for word in words}
    assert {"python", "rust", "haskell", "node", "qt", "compiler"} <= found
    assert re.fullmatch(r"\|\|X - WH\|\| = [\d.]+ \(\|\|X\|\| = 44.72\) after \d+ iterations,"
                        r" [\d.]+ s on \d+ threads?", lines[-1])


def test_example_options(capsys):
    from nmf import get_num_threads
    from nmf._cli import main

    threads = get_num_threads()
    assert main(["example", "-k", "3", "--top", "4", "--threads", "1", "--max-iter", "5",
                 "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    topics = [line.split()[1:] for line in out.splitlines() if re.match(r"^\d  \S", line)]
    assert len(topics) == 3 and all(len(words) == 4 for words in topics)
    assert re.search(r"after 5 iterations, .* on 1 thread$", out.splitlines()[-1])
    assert get_num_threads() == threads  # --threads holds for the command only


@pytest.mark.skipif("NMF_DATA_DIR" not in os.environ,
                    reason="set NMF_DATA_DIR to the shared data to rebuild the example")
def test_make_example_data_reproduces_the_shipped_files(tmp_path):
    script = pathlib.Path(__file__).parent.parent / "tools" / "make_example_data.py"
    subprocess.run([sys.executable, str(script), "--out-dir", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    for name in _FILES:
        assert (tmp_path / name).read_bytes() == _DATA.joinpath(name).read_bytes()
