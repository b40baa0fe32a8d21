"""The `nmf` command: subcommands, formats, messages, exit status, interruption."""
import io
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf import _cli
from nmf._factorize import factorize


def _run(cwd, *args, timeout=120):
    """`python -m nmf ARGS` in cwd, as a user would run it."""
    return subprocess.run([sys.executable, "-m", "nmf", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _main(*args):
    """main() in this process, for what needs no separate interpreter."""
    return _cli.main([str(arg) for arg in args])


def _low_rank(n=40, m=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, k)) @ rng.random((k, m))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder holding x.npy, also the working directory of in-process runs."""
    np.save(tmp_path / "x.npy", _low_rank())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _assert_failed(result, message):
    """Exit status 2, one line on stderr matching message, nothing else."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert re.search(message, result.stderr), result.stderr


# ---- fit and transform, through the real command ----------------------------------------
def test_fit_then_transform_reproduces_W(folder):
    fit = _run(folder, "fit", "x.npy", "-k", 3, "-o", "model.npz", "--tol", "1e-6",
               "--max-iter", 5000)
    assert fit.returncode == 0 and fit.stdout == ""
    assert re.fullmatch(r"nmf: wrote model.npz: W 40 x 3, H 3 x 12, float64; reconstruction"
                        r" error \S+, \d+ iterations, \S+ s\n", fit.stderr), fit.stderr
    with np.load(folder / "model.npz", allow_pickle=False) as model:
        W, H, n_iter = model["W"], model["H"], int(model["n_iter"])
        params = json.loads(str(model["params"]))
        error = float(model["reconstruction_err"])
    assert params == {"n_components": 3, "solver": "cd", "init": "nndsvd", "max_iter": 5000,
                      "tol": 1e-6, "alpha": 0.0, "l1_ratio": 0.0, "regularization": "both",
                      "random_state": 0, "dtype": "float64", "input": "x.npy",
                      "nmf_version": "0.1.0"}
    X = np.load(folder / "x.npy")
    assert error == pytest.approx(np.linalg.norm(X - W @ H), rel=1e-6)
    # The command computes what the library computes with the same parameters.
    _, W_lib, H_lib, n_iter_lib = factorize(
        X, n_components=3, init="nndsvd", tol=1e-6, max_iter=5000, regularization="both",
        random_state=0)
    assert_allclose(W, W_lib, rtol=1e-12)
    assert_allclose(H, H_lib, rtol=1e-12)
    assert n_iter == n_iter_lib

    transform = _run(folder, "transform", "--model", "model.npz", "x.npy", "-o", "w.npy")
    assert transform.returncode == 0, transform.stderr
    assert transform.stderr.startswith("nmf: wrote w.npy: W 40 x 3, float64;")
    assert_allclose(np.load(folder / "w.npy"), W, atol=1e-4 * W.max())
    assert sorted(os.listdir(folder)) == ["model.npz", "w.npy", "x.npy"]


def test_force_is_needed_to_overwrite(folder, capsys):
    assert _main("fit", "x.npy", "-k", 2, "-o", "model.npz", "-q") == 0
    before = (folder / "model.npz").read_bytes()
    _assert_failed(_run(folder, "fit", "x.npy", "-k", 3, "-o", "model.npz"),
                   r"^nmf: error: model.npz exists; use --force to overwrite it.$")
    assert (folder / "model.npz").read_bytes() == before
    assert _main("fit", "x.npy", "-k", 3, "-o", "model.npz", "--force", "-q") == 0
    with np.load(folder / "model.npz") as model:
        assert model["H"].shape == (3, 12)


def _write_formats(folder, X):
    np.save(folder / "x32.npy", X.astype(np.float32))
    np.savez(folder / "dense.npz", X=X)
    sp.save_npz(folder / "sparse.npz", sp.csr_matrix(X))
    scipy.io.mmwrite(folder / "x.mtx", sp.coo_matrix(X))
    rows = [",".join(repr(float(x)) for x in row) for row in X]
    (folder / "x.csv").write_text("\n".join(["a,b,c,d,e,f,g,h,i,j,k,l", *rows]) + "\n")
    (folder / "x.tsv").write_text("\n".join(rows).replace(",", "\t") + "\n")


@pytest.mark.parametrize("name", ["x.npy", "x32.npy", "dense.npz", "sparse.npz", "x.mtx",
                                  "x.csv", "x.tsv"])
def test_fit_reads_every_format(folder, name, capsys):
    X = np.load(folder / "x.npy")
    _write_formats(folder, X)
    assert _main("fit", name, "-k", 3, "-o", "m.npz", "--max-iter", 50, "--tol", 0) == 0
    with np.load(folder / "m.npz") as model:
        W, H, params = model["W"], model["H"], json.loads(str(model["params"]))
    dtype = np.float32 if name == "x32.npy" else np.float64
    assert W.dtype == H.dtype == dtype and params["dtype"] == np.dtype(dtype).name
    _, W_ref, _, _ = factorize(X.astype(dtype), n_components=3, init="nndsvd", tol=0,
                                  max_iter=50, random_state=0)
    assert_allclose(W, W_ref, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_option(folder, dtype, capsys):
    assert _main("fit", "x.npy", "-k", 2, "-o", "m.npz", "--dtype", dtype, "-q") == 0
    assert capsys.readouterr() == ("", "")
    with np.load(folder / "m.npz") as model:
        assert model["W"].dtype == model["H"].dtype == dtype
    assert _main("transform", "--model", "m.npz", "x.npy", "-o", "w.csv", "-q") == 0
    assert np.loadtxt(folder / "w.csv", delimiter=",").shape == (40, 2)


def test_fit_passes_every_option(folder, capsys):
    argv = ["fit", "x.npy", "-k", 2, "-o", "m.npz", "--init", "random", "--max-iter", 7,
            "--tol", 0, "--alpha", 0.5, "--l1-ratio", 0.25, "--regularization",
            "components", "--random-state", 3, "--threads", 1]
    assert _main(*argv) == 0
    with np.load(folder / "m.npz") as model:
        W, H, n_iter = model["W"], model["H"], int(model["n_iter"])
        params = json.loads(str(model["params"]))
    assert n_iter == 7 and params["regularization"] == "components"
    _, W_ref, H_ref, _ = factorize(
        np.load(folder / "x.npy"), n_components=2, init="random", max_iter=7, tol=0,
        alpha=0.5, l1_ratio=0.25, regularization="components", random_state=3)
    assert_allclose(W, W_ref, rtol=1e-12)
    assert_allclose(H, H_ref, rtol=1e-12)
    assert _main("fit", "x.npy", "-k", 2, "-o", "n.npz", "--regularization", "none",
                      "--alpha", 1) == 0
    with np.load(folder / "n.npz") as model:
        assert json.loads(str(model["params"]))["regularization"] is None


def test_fit_with_projected_gradient(folder, capsys):
    assert _main("fit", "x.npy", "-k", 2, "-o", "m.npz", "--solver", "pg") == 0
    with np.load(folder / "m.npz") as model:
        assert json.loads(str(model["params"]))["solver"] == "pg"


# ---- messages -------------------------------------------------------------------------
def test_messages_quiet_default_verbose(folder, capsys):
    argv = ["fit", "x.npy", "-k", 2, "-o", "m.npz", "--max-iter", 3, "--force"]
    assert _main(*argv) == 0
    out, err = capsys.readouterr()
    # stderr is not a terminal here: no progress, just the warning and the summary.
    assert out == "" and err.splitlines()[0] == (
        "nmf: warning: Coordinate descent stopped at max_iter=3 before reaching"
        " tol=0.0001; raise max_iter or tol.")
    assert len(err.splitlines()) == 2 and err.splitlines()[1].startswith("nmf: wrote m.npz")
    assert _main(*argv, "--quiet") == 0
    assert capsys.readouterr() == ("", "")
    assert _main(*argv, "--verbose") == 0
    out, err = capsys.readouterr()
    assert re.search(r"^iteration 3/3  relative violation \S+ \(stop at 1e-04\)  elapsed",
                     err, re.M)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_rewrites_one_line():
    progress = _cli._Progress(True, _Terminal(), max_iter=100, tol=1e-3)
    progress.phase = "reading x.npy"
    progress.draw()
    for n_iter in range(1, 6):
        progress.record(n_iter, 0.5 ** n_iter)
    progress.draw()  # the first iteration is shown at once
    progress.close()
    text = progress.stream.getvalue()
    assert "\n" not in text
    assert text.startswith("\r\x1b[Kreading x.npy  elapsed ")
    assert re.search(r"\r\x1b\[Kiteration 5/100  relative violation 3.12e-02 \(stop at 1e-03\)"
                     r"  elapsed \S+ s  remaining ~\S+ s", text)
    assert text.endswith("\r\x1b[K")  # erased when done


def test_progress_off_a_terminal_prints_lines_at_phase_changes():
    progress = _cli._Progress(True, io.StringIO(), max_iter=100, tol=1e-3)
    for phase in ("reading x.npy", "fitting"):
        progress.phase = phase
        progress.draw()
        progress.draw()  # within the second: nothing new
    progress.record(1, 1.0)
    progress.draw()
    progress.record(2, 0.5)
    progress.draw()  # within the second: not shown now ...
    progress.close()  # ... but as the last state
    lines = progress.stream.getvalue().splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "reading x.npy", "fitting", "iteration 1/100", "iteration 2/100"]


def test_progress_is_silent_when_disabled():
    progress = _cli._Progress(False, _Terminal(), max_iter=10, tol=0)
    progress.record(1, 0.5)
    progress.draw()
    progress.close()
    assert progress.stream.getvalue() == ""


def test_progress_estimates_remaining_time(monkeypatch):
    clock = itertools.count(0, 0.5)  # each iteration takes 0.5 s
    monkeypatch.setattr(_cli.time, "monotonic", lambda: next(clock))
    progress = _cli._Progress(True, io.StringIO(), max_iter=1000, tol=2.0 ** -30)
    for n_iter in range(1, 11):
        progress.record(n_iter, 2.0 ** -n_iter)  # halves every iteration
    assert progress.remaining() == pytest.approx(20 * 0.5)  # 20 more to reach 2**-30
    progress.max_iter = 15
    assert progress.remaining() == pytest.approx(5 * 0.5)  # max_iter comes first
    progress.tol = 0
    assert progress.remaining() == pytest.approx(5 * 0.5)
    for n_iter in range(11, 2000):  # the history stays short, the estimate right
        progress.record(n_iter, 1.0)
    assert len(progress.history) <= progress._KEEP
    progress.max_iter = 3000
    assert progress.remaining() == pytest.approx(1001 * 0.5)


def test_info_describes_every_format(folder):
    X = np.load(folder / "x.npy")
    X[0, :3] = 0
    np.save(folder / "x.npy", X)
    _write_formats(folder, X)
    np.save(folder / "neg.npy", -X)
    names = ["x.npy", "x32.npy", "dense.npz", "sparse.npz", "x.mtx", "x.csv", "x.tsv"]
    result = _run(folder, "info", *names, "neg.npy")
    assert result.returncode == 0 and result.stderr == ""
    blocks = re.split(r"\n(?=\S)", result.stdout.strip())
    assert [block.split("\n")[0] for block in blocks] == [*names, "neg.npy"]
    for block in blocks[:-1]:
        assert "\n  shape       40 x 12\n" in block
        assert f"\n  non-zeros   477 ({477 / 480:.3%} dense)\n" in block
        assert f"\n  min, max    0, {X.max():.6g}\n" in block
        assert block.endswith("\n  usable by nmf fit: yes")
    assert "\n  layout      dense, memory-mapped\n  shape       40 x 12\n  dtype       float32" \
        in blocks[1]
    assert "\n  layout      scipy.sparse CSR\n" in blocks[3]
    assert "\n  stored      477 entries\n" in blocks[3]
    assert blocks[-1].endswith(f"\n  min, max    {-X.max():.6g}, 0\n"
                               "  usable by nmf fit: no (needs finite, non-negative values)")


# ---- errors ---------------------------------------------------------------------------
def _corrupt(folder):
    (folder / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(folder / "neg.npy", -_low_rank())
    np.save(folder / "nan.npy", np.full((3, 3), np.nan))
    np.save(folder / "wide.npy", _low_rank(m=20))
    (folder / "x.xyz").write_text("1\n")


_ERRORS = [
    (["fit", "missing.npy", "-k", 2, "-o", "m.npz"],
     r"^nmf: error: missing.npy: No such file or directory$"),
    (["fit", "x.xyz", "-k", 2, "-o", "m.npz"],
     r"^nmf: error: x.xyz: unknown input format; expected a file ending in .npy, .npz"),
    (["fit", "bad.npy", "-k", 2, "-o", "m.npz"], r"^nmf: error: bad.npy: cannot read it as .npy: "),
    (["fit", "neg.npy", "-k", 2, "-o", "m.npz"],
     r"^nmf: error: neg.npy must be non-negative; its smallest entry is "),
    (["fit", "nan.npy", "-k", 2, "-o", "m.npz"],
     r"^nmf: error: nan.npy must not contain NaN or infinity.$"),
    (["fit", "x.npy", "-k", 0, "-o", "m.npz"],
     r"^nmf fit: error: argument -k/--n-components: must be an integer >= 1; got '0'"
     r" \(see 'nmf fit --help'\)$"),
    (["fit", "x.npy", "-k", 2, "-o", "m.npz", "--tol", "nan"],
     r"^nmf fit: error: argument --tol: must be a number >= 0; got 'nan'"),
    (["fit", "x.npy", "-k", 2, "-o", "m.npz", "--l1-ratio", 2],
     r"^nmf fit: error: argument --l1-ratio: must be a number in \[0, 1\]; got '2'"),
    (["fit", "x.npy", "-k", 2, "-o", "m.npz", "--solver", "mu"],
     r"^nmf fit: error: argument --solver: invalid choice: 'mu'"),
    (["fit", "x.npy", "-o", "m.npz"],
     r"^nmf fit: error: the following arguments are required: -k/--n-components"),
    (["fit", "x.npy", "-k", 20, "--init", "nndsvd", "-o", "m.npz"],
     r"^nmf: error: init='nndsvd' needs n_components <= min\(n_samples, n_features\) = 12"),
    (["fit", "x.npy", "-k", 2, "-o", "m.npy"],
     r"^nmf: error: m.npy: unknown output format; expected a file ending in .npz.$"),
    (["fit", "x.npy", "-k", 2, "-o", "no/m.npz"],
     r"^nmf: error: no/m.npz: the directory .*/no does not exist.$"),
    (["transform", "--model", "x.npy", "x.npy", "-o", "w.npy"],
     r"^nmf: error: x.npy: not a model written by 'nmf fit': "),
    (["transform", "--model", "m.npz", "wide.npy", "-o", "w.npy"],
     r"^nmf: error: wide.npy has 20 columns but the model m.npz was fitted on 12.$"),
    (["info", "x.npy", "bad.npy"], r"^nmf: error: bad.npy: cannot read it as .npy"),
    (["frobnicate"], r"^nmf: error: argument COMMAND: invalid choice: 'frobnicate'"),
]


def _failing_run(folder, args, in_process, capsys=None):
    """Run a command expected to fail; check that it leaves the folder as it was."""
    _corrupt(folder)
    if "m.npz" in args and args[0] == "transform":
        assert _main("fit", "x.npy", "-k", 2, "-o", "m.npz", "-q") == 0
    before = sorted(os.listdir(folder))
    if in_process:
        try:
            status = _main(*args)
        except SystemExit as exc:  # argparse's way out
            status = exc.code
        out, err = capsys.readouterr()
        result = subprocess.CompletedProcess(args, status, out, err)
    else:
        result = _run(folder, *args)
    if args[0] == "info":  # what was read before the error is printed
        assert result.stdout.startswith("x.npy\n")
        result.stdout = ""
    assert sorted(os.listdir(folder)) == before
    return result


@pytest.mark.parametrize("args, message", _ERRORS)
def test_errors_are_one_line_with_status_2_and_leave_no_file(folder, args, message, capsys):
    _assert_failed(_failing_run(folder, args, True, capsys), message)


@pytest.mark.parametrize("args, message", [_ERRORS[i] for i in (0, 2, 3, 5, 14, 15)])
def test_errors_of_the_real_command(folder, args, message):
    """The same, for one error of each kind, as a separate process: exit status and
    no traceback at the interpreter's level."""
    _assert_failed(_failing_run(folder, args, False), message)


@pytest.mark.parametrize("sent, status, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
def test_a_signal_stops_a_long_fit_within_a_second(tmp_path, sent, status, word):
    np.save(tmp_path / "big.npy", np.random.default_rng(0).random((1000, 600), np.float32))
    command = [sys.executable, "-m", "nmf", "fit", "big.npy", "-k", "20", "-o", "m.npz",
               "--tol", "0", "--max-iter", "1000000000", "--verbose"]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            line = process.stderr.readline()
            while line and not line.startswith("iteration"):  # the fit is running
                line = process.stderr.readline()
            assert line, "the fit ended before showing progress"
            sent_at = time.monotonic()
            process.send_signal(sent)
            assert process.wait(timeout=30) == status
            assert time.monotonic() - sent_at < 1.0
            remaining = [line for line in process.stderr.read().splitlines()
                         if not line.startswith("iteration")]
        finally:
            if process.poll() is None:
                process.kill()
    assert remaining == [f"nmf: {word}"]
    assert os.listdir(tmp_path) == ["big.npy"]


@pytest.mark.parametrize("command", [[], ["fit"], ["transform"], ["info"], ["example"]])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit:
        _main(*command, "--help")
    assert exit.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {' '.join(['nmf', *command])} ")
    if not command:
        assert all(name in out for name in ("example", "fit", "transform", "info"))


def test_console_script_is_installed(tmp_path):
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    script = shutil.which("nmf", path=path)
    if script is None:
        pytest.skip("no `nmf` console script next to this Python or on PATH")
    result = subprocess.run([script, "--version"], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "nmf 0.1.0\n"


def test_arguments_arrive_converted():
    args = _cli._parser().parse_args(["fit", "a.npy", "-k", "3", "-o", "m.npz", "--tol",
                                      "1e-3", "--threads", "2"])
    assert (args.n_components, args.tol, args.threads, args.force) == (3, 1e-3, 2, False)
    assert_array_equal([args.max_iter, args.random_state], [200, 0])
