"""The command line's files: every input format, describing, safe writing, models."""
import gzip
import io
import json
import os

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from nmf import _io


def _dense(seed=0):
    X = np.random.default_rng(seed).random((6, 4))
    X[1, 2] = 0
    return X


def _write(path, X):
    """Write X in the format path's name asks for; return path."""
    name = path.name
    if name.endswith(".npy"):
        np.save(path, X)
    elif ".mtx" in name:
        text = io.BytesIO()
        scipy.io.mmwrite(text, sp.coo_matrix(X))
        content = text.getvalue()
        path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    elif name.endswith(".npz"):
        sp.save_npz(path, sp.csr_matrix(X))
    else:
        delimiter = "\t" if ".tsv" in name else ","
        text = "\n".join(delimiter.join(repr(float(x)) for x in row) for row in X) + "\n"
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["x.npy", "x.npz", "x.mtx", "x.mtx.gz", "x.csv", "x.tsv",
                                  "x.csv.gz", "x.tsv.gz", "X.CSV"])
def test_read_matrix_reads_every_format(tmp_path, name):
    X = _dense()
    read = _io.read_matrix(_write(tmp_path / name, X))
    assert_array_equal(read.toarray() if sp.issparse(read) else read, X)


def test_read_npy_is_memory_mapped_and_read_only(tmp_path):
    path = _write(tmp_path / "x.npy", _dense().astype(np.float32))
    X = _io.read_matrix(path)
    assert isinstance(X, np.memmap) and not X.flags.writeable and X.dtype == np.float32
    # check_X takes it as it is: a copy into memory would be writeable.
    assert not _io.read_input(path).flags.writeable


def test_read_fortran_npy_stays_mapped(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.asfortranarray(_dense()))
    X = _io.read_input(path)
    assert X.flags.f_contiguous and not X.flags.writeable
    assert _io.read_input(path, "float32").flags.writeable  # a conversion must copy


def test_read_npz_single_dense_array(tmp_path):
    np.savez(tmp_path / "x.npz", anything=_dense())
    assert_array_equal(_io.read_matrix(tmp_path / "x.npz"), _dense())


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_read_npz_sparse_formats_become_csr_or_csc(tmp_path, fmt):
    sp.save_npz(tmp_path / "x.npz", sp.csr_matrix(_dense()).asformat(fmt))
    X = _io.read_matrix(tmp_path / "x.npz")
    assert X.format == ("csc" if fmt == "csc" else "csr")
    assert_array_equal(X.toarray(), _dense())


def test_read_csv_header_and_single_column(tmp_path):
    (tmp_path / "h.csv").write_text("a,b\n1,2\n3,4\n")
    assert_array_equal(_io.read_matrix(tmp_path / "h.csv"), [[1, 2], [3, 4]])
    (tmp_path / "c.csv").write_text("1\n2\n3\n")
    assert _io.read_matrix(tmp_path / "c.csv").shape == (3, 1)


def test_read_input_converts_dtype(tmp_path):
    path = _write(tmp_path / "x.npy", _dense())
    assert _io.read_input(path).dtype == np.float64
    assert _io.read_input(path, "float32").dtype == np.float32
    path = _write(tmp_path / "i.npy", np.arange(12).reshape(3, 4))
    assert _io.read_input(path).dtype == np.float64


@pytest.mark.parametrize("name, content, message", [
    ("x.txt", b"1,2\n", r"x.txt: unknown input format; expected a file ending in .npy"),
    ("x.npy", b"not an array", r"x.npy: cannot read it as .npy: "),
    ("x.npz", b"not a zip", r"x.npz: cannot read it as .npz: "),
    ("x.mtx", b"%%MatrixMarket nonsense\n", r"x.mtx: cannot read it as .mtx: "),
    ("x.csv", b"1,2\n3,oops\n", r"x.csv: cannot read it as .csv: .*oops"),
    ("x.csv", b"1,2\n3\n", r"x.csv: cannot read it as .csv: "),
    ("x.csv", b"", r"x.csv: cannot read it as .csv: the file holds no data"),
    ("x.csv", b"a,b\n", r"x.csv: cannot read it as .csv: the file holds no data rows"),
])
def test_read_matrix_rejects_malformed_files(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=message):
        _io.read_matrix(tmp_path / name)


def test_read_matrix_rejects_npz_of_several_arrays_and_npz_named_npy(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.ones(2), b=np.ones(2))
    with pytest.raises(ValueError, match=r"holds 2 arrays \(a, b\); expected a scipy"):
        _io.read_matrix(tmp_path / "two.npz")
    os.rename(tmp_path / "two.npz", tmp_path / "two.npy")
    with pytest.raises(ValueError, match=r"it is a .npz archive, not a .npy array"):
        _io.read_matrix(tmp_path / "two.npy")


def test_read_matrix_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        _io.read_matrix(tmp_path / "missing.npy")
    (tmp_path / "d.npy").mkdir()  # a directory named like an input
    with pytest.raises(IsADirectoryError):
        _io.read_matrix(tmp_path / "d.npy")


@pytest.mark.parametrize("values, message", [
    ([[1.0, -2.0]], r"x.npy must be non-negative"),
    ([[1.0, np.nan]], r"x.npy must not contain NaN or infinity"),
    ([1.0, 2.0], r"x.npy must be a 2-D array"),
])
def test_read_input_names_the_file_in_value_errors(tmp_path, values, message):
    np.save(tmp_path / "x.npy", np.array(values))
    with pytest.raises(ValueError, match=message):
        _io.read_input(tmp_path / "x.npy")


def test_describe_dense_and_sparse_agree():
    X = _dense()
    X[0, 0] = 0
    dense, sparse = _io.describe(X), _io.describe(sp.csr_matrix(X))
    for facts in dense, sparse:
        assert facts["shape"] == (6, 4) and facts["dtype"] == "float64"
        assert facts["non_zero"] == 22 and facts["density"] == 22 / 24
        assert facts["min"] == 0 and facts["max"] == X.max() and facts["non_finite"] == 0
    assert dense["stored"] == 24 and sparse["stored"] == 22
    assert sparse["layout"] == "scipy.sparse CSR"


def test_describe_counts_non_finite_and_scans_in_blocks(monkeypatch):
    monkeypatch.setattr(_io, "_BLOCK_ENTRIES", 5)
    X = -_dense()
    X[2, 1], X[5, 3] = np.nan, np.inf
    facts = _io.describe(X)
    finite = X[np.isfinite(X)]
    assert facts["non_finite"] == 2
    assert facts["min"] == finite.min() and facts["max"] == finite.max() == 0
    assert _io.describe(np.full((2, 2), np.nan))["min"] is None


def test_describe_implicit_zeros_count_in_min_and_max():
    facts = _io.describe(sp.csr_matrix(np.array([[0, 5.0], [0, 0]])))
    assert (facts["min"], facts["max"], facts["non_zero"]) == (0, 5.0, 1)
    facts = _io.describe(sp.csr_matrix(np.array([[0, -5.0], [0, 0]])))
    assert (facts["min"], facts["max"]) == (-5.0, 0)


def test_describe_rejects_non_real_and_non_2d():
    with pytest.raises(ValueError, match=r"it holds complex128 values"):
        _io.describe(np.ones((2, 2), complex))
    with pytest.raises(ValueError, match=r"it is a 1-D array"):
        _io.describe(np.ones(3))


def test_write_atomically_replaces_only_when_complete(tmp_path):
    path = tmp_path / "out.npy"
    _io.write_atomically(path, lambda file: file.write(b"first"), force=False)
    assert path.read_bytes() == b"first"
    with pytest.raises(ValueError, match=r"out.npy exists; use --force to overwrite it"):
        _io.write_atomically(path, lambda file: file.write(b"second"), force=False)

    def fail(file):
        file.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _io.write_atomically(path, fail, force=True)
    assert path.read_bytes() == b"first"
    assert sorted(os.listdir(tmp_path)) == ["out.npy"]  # no temporary file left
    _io.write_atomically(path, lambda file: file.write(b"second"), force=True)
    assert path.read_bytes() == b"second"
    mode = os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # not mkstemp's private 0o600


def test_check_output(tmp_path):
    _io.check_output(tmp_path / "m.npz", _io.MODEL_SUFFIXES, force=False)
    (tmp_path / "m.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"m.npz exists; use --force"):
        _io.check_output(tmp_path / "m.npz", _io.MODEL_SUFFIXES, force=False)
    _io.check_output(tmp_path / "m.npz", _io.MODEL_SUFFIXES, force=True)
    with pytest.raises(ValueError, match=r"unknown output format; expected a file ending in .npz"):
        _io.check_output(tmp_path / "m.npy", _io.MODEL_SUFFIXES, force=False)
    with pytest.raises(ValueError, match=r"the directory .*nowhere does not exist"):
        _io.check_output(tmp_path / "nowhere" / "m.npz", _io.MODEL_SUFFIXES, force=False)
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(ValueError, match=r"d.npz is a directory"):
        _io.check_output(tmp_path / "d.npz", _io.MODEL_SUFFIXES, force=True)


def _params():
    return {"n_components": 2, "solver": "cd", "init": "nndsvd", "max_iter": 5, "tol": 0.1,
            "alpha": 0.0, "l1_ratio": 0.0, "regularization": None, "random_state": 0}


def test_model_round_trip(tmp_path):
    W, H = np.ones((3, 2), np.float32), np.full((2, 4), 2, np.float32)
    _io.save_model(tmp_path / "m.npz", W, H, 7, 1.5, _params(), force=False)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(["W", "H", "n_iter", "reconstruction_err",
                                                "params"])
        assert archive["W"].dtype == np.float32 and int(archive["n_iter"]) == 7
        assert json.loads(str(archive["params"])) == _params()
    H_read, params = _io.load_model(tmp_path / "m.npz")
    assert_array_equal(H_read, H)
    assert H_read.dtype == np.float32 and params == _params()


def test_load_model_rejects_other_files(tmp_path):
    sp.save_npz(tmp_path / "x.npz", sp.csr_matrix(_dense()))
    with pytest.raises(ValueError, match=r"x.npz: not a model written by 'nmf fit': it lacks W, H"):
        _io.load_model(tmp_path / "x.npz")
    params = _params()
    del params["solver"]
    _io.save_model(tmp_path / "m.npz", np.ones((1, 1)), np.ones((1, 1)), 1, 0, params, False)
    with pytest.raises(ValueError, match=r"its params lack solver"):
        _io.load_model(tmp_path / "m.npz")
    with pytest.raises(FileNotFoundError):
        _io.load_model(tmp_path / "missing.npz")


@pytest.mark.parametrize("name", ["w.npy", "w.csv", "w.tsv"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_factor_round_trips_exactly(tmp_path, name, dtype):
    W = np.random.default_rng(0).random((5, 3)).astype(dtype)
    _io.save_factor(tmp_path / name, W, force=False)
    read = _io.read_matrix(tmp_path / name)
    assert_array_equal(read.astype(dtype), W)
