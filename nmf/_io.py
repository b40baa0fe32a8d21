"""The command line's files: reading matrices, describing them, writing results safely.

Inputs: .npy (memory-mapped, never read into memory unless a dtype conversion needs
it), .npz (a scipy.sparse matrix saved by scipy.sparse.save_npz, or a single dense
array), .mtx (Matrix Market), .csv/.tsv (numeric, an optional header row); .mtx, .csv
and .tsv may be gzipped (.gz). Outputs are written to a temporary file beside the
target, then renamed into place once complete, so a failed or interrupted run never
leaves a partial file.
"""
import contextlib
import functools
import gzip
import json
import os
import tempfile
import warnings

import numpy as np
import scipy.sparse as sp

from . import _validation as v

INPUT_SUFFIXES = (".npy", ".npz", ".mtx", ".mtx.gz", ".csv", ".csv.gz", ".tsv", ".tsv.gz")
MODEL_SUFFIXES = (".npz",)
FACTOR_SUFFIXES = (".npy", ".csv", ".tsv")
_MODEL_KEYS = ("W", "H", "n_iter", "reconstruction_err", "params")
# What `nmf transform` needs to solve W the way the model was fitted.
_MODEL_PARAMS = ("n_components", "solver", "init", "max_iter", "tol", "alpha", "l1_ratio",
                 "regularization", "random_state")
# Entries scanned at a time when describing a dense matrix (bounds the temporaries).
_BLOCK_ENTRIES = 1 << 20


def _suffix(path, suffixes, role):
    name = os.path.basename(path).lower()
    for suffix in sorted(suffixes, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"{path}: unknown {role} format; expected a file ending in"
                     f" {', '.join(suffixes)}.")


def _read_npy(path):
    X = np.load(path, mmap_mode="r", allow_pickle=False)
    if not isinstance(X, np.ndarray):  # np.load opens a zip archive whatever its name
        X.close()
        raise ValueError("it is a .npz archive, not a .npy array")
    return X


def _read_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        names = archive.files
        if "format" in names and "shape" in names:
            return sp.load_npz(path)
        if len(names) == 1:
            return archive[names[0]]
    listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    raise ValueError(f"it holds {len(names)} arrays ({listed}); expected a scipy.sparse"
                     " matrix saved with scipy.sparse.save_npz or a single dense array")


def _read_mtx(path):
    import scipy.io

    return scipy.io.mmread(path)


def _has_header(path, delimiter):
    """True when the first non-empty line has a field that is not a number."""
    with (gzip.open if path.lower().endswith(".gz") else open)(path, "rt",
                                                                 encoding="utf-8") as file:
        for line in file:
            if line.strip() and not line.lstrip().startswith("#"):
                break
        else:
            raise ValueError("the file holds no data")
    try:
        for field in line.split(delimiter):
            float(field)
    except ValueError:
        return True
    return False


def _read_delimited(path, delimiter):
    header = _has_header(path, delimiter)
    with warnings.catch_warnings():  # a header-only file: "input contained no data"
        warnings.simplefilter("ignore", UserWarning)
        X = np.loadtxt(path, delimiter=delimiter, skiprows=int(header), ndmin=2,
                       dtype=np.float64, encoding="utf-8")
    if X.size == 0:
        raise ValueError("the file holds no data rows")
    return X


_READERS = {
    ".npy": _read_npy,
    ".npz": _read_npz,
    ".mtx": _read_mtx,
    ".mtx.gz": _read_mtx,
    ".csv": functools.partial(_read_delimited, delimiter=","),
    ".csv.gz": functools.partial(_read_delimited, delimiter=","),
    ".tsv": functools.partial(_read_delimited, delimiter="\t"),
    ".tsv.gz": functools.partial(_read_delimited, delimiter="\t"),
}


def read_matrix(path):
    """The matrix stored in path, as stored: an ndarray (a read-only memory map for
    .npy) or a CSR/CSC matrix (other sparse formats become CSR).

    Raises OSError when the file cannot be opened and ValueError, naming the file, when
    its name or content is not one of the accepted formats.
    """
    path = os.fspath(path)
    suffix = _suffix(path, INPUT_SUFFIXES, "input")
    with open(path, "rb"):  # missing, a directory, not readable: a plain OSError
        pass
    try:
        X = _READERS[suffix](path)
    except MemoryError:
        raise
    except Exception as exc:  # whatever the parser says about a malformed file
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"{path}: cannot read it as {suffix}: {message}") from exc
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()
    return X


def read_input(path, dtype=None):
    """read_matrix, converted to dtype (None: float32 stays, the rest becomes float64)
    and checked to be a finite non-negative 2-D matrix; errors name the file."""
    X = read_matrix(path)
    if dtype is not None and X.dtype.kind in "biuf" and X.dtype != dtype:
        X = X.astype(dtype)
    return v.check_X(X, name=os.fspath(path))


def describe(X):
    """A dict of facts about matrix X: layout, shape, dtype, stored entries, non-zeros,
    density, min, max (None when X holds no finite entry) and non-finite count."""
    if X.ndim != 2:
        raise ValueError(f"it is a {X.ndim}-D array of shape {X.shape}; expected 2-D")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"it holds {X.dtype} values; expected real numbers")
    size = X.shape[0] * X.shape[1]
    if sp.issparse(X):
        values = X.data
        layout = f"scipy.sparse {X.format.upper()}"
    else:
        values = X.ravel(order="K")  # a view: inputs are contiguous
        layout = "dense, memory-mapped" if isinstance(X, np.memmap) else "dense"
    low, high, non_zero, non_finite = np.inf, -np.inf, 0, 0
    for start in range(0, values.size, _BLOCK_ENTRIES):
        block = np.asarray(values[start:start + _BLOCK_ENTRIES])
        finite = np.isfinite(block)
        n_finite = int(np.count_nonzero(finite))
        non_finite += block.size - n_finite
        non_zero += int(np.count_nonzero(block))
        block = block if n_finite == block.size else block[finite]
        if block.size:
            low, high = min(low, block.min().item()), max(high, block.max().item())
    if values.size < size:  # a sparse matrix's implicit zeros
        low, high = min(low, 0), max(high, 0)
    finite_values = low <= high
    low, high = low + 0, high + 0  # -0.0 becomes 0.0
    return {"layout": layout, "shape": X.shape, "dtype": str(X.dtype),
            "stored": values.size, "non_zero": non_zero,
            "density": non_zero / size if size else 0.0,
            "min": low if finite_values else None, "max": high if finite_values else None,
            "non_finite": non_finite}


def check_output(path, suffixes, force):
    """Raise, before any work is done, if path cannot be written as an output."""
    path = os.fspath(path)
    _suffix(path, suffixes, "output")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"{path}: the directory {directory} does not exist.")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory.")
    if os.path.exists(path) and not force:
        raise ValueError(f"{path} exists; use --force to overwrite it.")


def _default_file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path, write, force):
    """Call write(binary_file) on a temporary file in path's directory, then rename it
    to path; on any failure or interruption the temporary file is removed."""
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part",
                                             dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _default_file_mode())
        if os.path.exists(path) and not force:
            raise ValueError(f"{path} exists; use --force to overwrite it.")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def save_model(path, W, H, n_iter, reconstruction_err, params, force):
    """Write a fitted model: W, H, n_iter, reconstruction_err and params (a JSON
    string of the parameters used) in an uncompressed .npz."""
    arrays = {"W": W, "H": H, "n_iter": np.int64(n_iter),
              "reconstruction_err": np.float64(reconstruction_err),
              "params": np.array(json.dumps(params, sort_keys=True))}
    write_atomically(path, lambda file: np.savez(file, **arrays), force)


def load_model(path):
    """(H, params) of a model written by save_model."""
    path = os.fspath(path)
    with open(path, "rb"):
        pass
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in _MODEL_KEYS if key not in archive.files]
            if missing:
                raise ValueError(f"it lacks {', '.join(missing)}")
            H, params = archive["H"], json.loads(str(archive["params"]))
        missing = [key for key in _MODEL_PARAMS if key not in params]
        if missing:
            raise ValueError(f"its params lack {', '.join(missing)}")
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"{path}: not a model written by 'nmf fit': {message}") from exc
    return H, params


def save_factor(path, W, force):
    """Write W as .npy, or as .csv/.tsv text with enough digits to round-trip."""
    suffix = _suffix(os.fspath(path), FACTOR_SUFFIXES, "output")

    def write(file):
        if suffix == ".npy":
            np.save(file, W)
        else:
            np.savetxt(file, W, fmt="%.9g" if W.dtype == np.float32 else "%.17g",
                       delimiter="," if suffix == ".csv" else "\t")

    write_atomically(path, write, force)
