"""Build nmf/data/, the built-in example of the `nmf` command, from the shared data.

    python tools/make_example_data.py --data-dir ../shared/data

(--data-dir defaults to $NMF_DATA_DIR.) Reads debian_tfidf.npz, debian_tfidf_terms.txt
and debian_tfidf_rows.txt, checks the matrix's fingerprint, and writes, byte for byte
the same on every run:

- example_tfidf.npz: the 2,000 packages whose sha256(name) is smallest (a pseudo-random
  sample that needs no random generator), restricted to the terms used by at least 3 of
  them, each row re-normalised to unit L2 norm, float32 CSR saved by
  scipy.sparse.save_npz (zip entries re-stamped with a fixed date);
- example_terms.txt.gz: the kept terms, one per line, in column order;
- example_packages.txt.gz: the chosen package names, one per line, in row order.

nmf/data/README.md records the result; update it when this script changes.
"""
import argparse
import gzip
import hashlib
import io
import os
import pathlib
import sys
import zipfile

import numpy as np
import scipy.sparse as sp

SOURCE_FINGERPRINT = "1dfaabe8fb3952b5"
N_DOCUMENTS = 2000
MIN_DOCUMENTS_PER_TERM = 3
OUT_DIR = pathlib.Path(__file__).resolve().parent.parent / "nmf" / "data"


def fingerprint(X):
    """sha256 over shape, indptr, indices, data as int64/int64/int64/float64 (16 hex)."""
    digest = hashlib.sha256()
    for values, dtype in [(X.shape, np.int64), (X.indptr, np.int64),
                          (X.indices, np.int64), (X.data, np.float64)]:
        digest.update(np.ascontiguousarray(values, dtype=dtype).tobytes())
    return digest.hexdigest()[:16]


def read_lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def choose_documents(names, n_documents):
    """Indices (sorted) of the n_documents names with the smallest sha256."""
    keys = [hashlib.sha256(name.encode("utf-8")).hexdigest() for name in names]
    return np.sort(np.argsort(keys, kind="stable")[:n_documents])


def example_matrix(X, rows, min_documents):
    """X[rows] on the columns used by >= min_documents of them, rows of unit norm."""
    X = X[rows].tocsr()
    document_frequency = np.bincount(X.indices, minlength=X.shape[1])
    columns = np.flatnonzero(document_frequency >= min_documents)
    X = X[:, columns].tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    if np.any(norms == 0):
        sys.exit(f"{np.sum(norms == 0)} chosen documents kept no term; lower"
                 " MIN_DOCUMENTS_PER_TERM")
    X = (sp.diags_array(1.0 / norms) @ X).astype(np.float32).tocsr()
    X.sort_indices()
    return X, columns


def save_npz_bytes(X):
    """scipy.sparse.save_npz's bytes, with the zip entries' dates fixed (1980-01-01)."""
    written = io.BytesIO()
    sp.save_npz(written, X, compressed=True)
    fixed = io.BytesIO()
    with zipfile.ZipFile(written) as source, \
            zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(name))
    return fixed.getvalue()


def gzip_lines(lines):
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9,
                         mtime=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("NMF_DATA_DIR"),
                        help="directory holding debian_tfidf.npz (default: $NMF_DATA_DIR)")
    parser.add_argument("--out-dir", default=str(OUT_DIR),
                        help=f"where to write the example (default: {OUT_DIR})")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("give --data-dir or set NMF_DATA_DIR")
    data_dir, out_dir = pathlib.Path(args.data_dir), pathlib.Path(args.out_dir)

    X = sp.load_npz(data_dir / "debian_tfidf.npz").tocsr()
    if fingerprint(X) != SOURCE_FINGERPRINT:
        sys.exit(f"debian_tfidf.npz has fingerprint {fingerprint(X)}; this script was"
                 f" written for {SOURCE_FINGERPRINT}")
    terms = read_lines(data_dir / "debian_tfidf_terms.txt")
    names = read_lines(data_dir / "debian_tfidf_rows.txt")
    rows = choose_documents(names, N_DOCUMENTS)
    example, columns = example_matrix(X, rows, MIN_DOCUMENTS_PER_TERM)

    outputs = {
        "example_tfidf.npz": save_npz_bytes(example),
        "example_terms.txt.gz": gzip_lines([terms[j] for j in columns]),
        "example_packages.txt.gz": gzip_lines([names[i] for i in rows]),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"{example.shape[0]} documents x {example.shape[1]} terms,"
          f" {example.nnz} stored entries ({example.nnz / np.prod(example.shape):.2%} dense)")
    for name, content in outputs.items():
        (out_dir / name).write_bytes(content)
        print(f"{name}: {len(content)} bytes, sha256 {hashlib.sha256(content).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
