"""The built-in example: TF-IDF of 2,000 Debian package descriptions (nmf/data/).

nmf/data/README.md says how the files were made (tools/make_example_data.py).
"""
import gzip
from importlib import resources

import numpy as np
import scipy.sparse as sp


def _data_file(name):
    return resources.files("nmf").joinpath("data").joinpath(name)


def _read_lines(name):
    with _data_file(name).open("rb") as file:
        return gzip.decompress(file.read()).decode("utf-8").splitlines()


def load_example():
    """The example's matrix and labels.

    Returns
    -------
    X : scipy.sparse CSR array of shape (2000, n_terms), float32
        TF-IDF of the package descriptions, each row of unit L2 norm.
    terms : list of str
        The term of each column.
    packages : list of str
        The package of each row.
    """
    with _data_file("example_tfidf.npz").open("rb") as file:
        X = sp.load_npz(file)
    return X, _read_lines("example_terms.txt.gz"), _read_lines("example_packages.txt.gz")


def largest(values, n):
    """Indices of the n largest positive entries of values, largest first."""
    order = np.argsort(-values, kind="stable")[:n]
    return order[values[order] > 0]


def topics(W, H, terms, packages, n_terms=8, n_packages=3):
    """Per component: its n_terms heaviest terms (from H's row) and the n_packages
    packages that use it most (from W's column), as two lists of str."""
    return [([terms[j] for j in largest(H[t], n_terms)],
             [packages[i] for i in largest(W[:, t], n_packages)])
            for t in range(H.shape[0])]
