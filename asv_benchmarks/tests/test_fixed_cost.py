"""fixed_cost.py splits a fit into fixed work and marginal iteration, per thread count."""
import numpy as np
import pytest

import fixed_cost


def test_fixed_cost_prints_a_row_per_thread_count_and_placement(capsys, monkeypatch):
    import placement
    trips = iter([60.0, 70.0, 400.0, 500.0, 60.0, 500.0])    # before and after each round
    monkeypatch.setattr(placement, "round_trip_ns", lambda: next(trips))
    fixed_cost.main(["dense_2000x1000", "-k", "3", "--threads", "1", "2",
                     "--iterations", "1", "3", "--rounds", "3"])
    lines = capsys.readouterr().out.splitlines()
    rows = lines[2:4]
    assert [row.split()[:2] for row in rows] == [["float64", "1"], ["float64", "2"]]
    assert len(rows[0].split()) == 4                 # dtype, threads, marginal, fixed
    assert len(rows[1].split()) == 6                 # and the two ratios to 1 thread
    assert float(rows[1].split()[4]) > 0
    assert [line.split(":")[0] for line in lines[4:]] == [
        f"float64, 2 / 1 thread(s), 1 round(s) {place}" for place in ("near", "far", "moved")]
    assert all(" fit " in line and " marginal " in line for line in lines[4:])


def test_fixed_cost_dtypes_adds_their_ratios(capsys, monkeypatch):
    seen = []
    fit = fixed_cost._nmf_fit()
    monkeypatch.setattr(fixed_cost, "_nmf_fit", lambda: lambda X, W, H, n: (
        seen.append((X.dtype, W.dtype, H.dtype)) or fit(X, W, H, n)))
    fixed_cost.main(["dense_2000x1000", "-k", "3", "--iterations", "1", "3",
                     "--rounds", "2", "--dtypes", "float64", "float32"])
    lines = capsys.readouterr().out.splitlines()
    assert [row.split()[:2] for row in lines[2:4]] == [["float64", "1"], ["float32", "1"]]
    assert lines[4].startswith("float32 / float64, 1 thread(s): fit ")
    assert len(lines) == 5
    f32, f64 = (np.dtype("float32"),) * 3, (np.dtype("float64"),) * 3
    assert seen == [f64, f64, f32, f32] * 2        # rounds of both, alternating


def test_fixed_cost_profile_names_the_fit(capsys):
    fixed_cost.main(["dense_2000x1000", "-k", "3", "--rounds", "2", "--profile"])
    assert "factorize" in capsys.readouterr().out


def test_fixed_cost_refuses_iterations_out_of_order():
    with pytest.raises(SystemExit):
        fixed_cost.main(["dense_2000x1000", "--iterations", "3", "3"])


def test_fixed_cost_blas_before_and_settle(capsys, monkeypatch):
    import compare
    import placement
    monkeypatch.setattr(compare, "SETTLE_SECONDS", compare.SETTLE_SECONDS)  # restored after
    monkeypatch.setattr(placement, "round_trip_ns", lambda: None)
    fixed_cost.main(["dense_2000x1000", "-k", "3", "--threads", "1", "2", "--iterations",
                     "1", "2", "--rounds", "1", "--blas-before", "--settle", "0.01"])
    assert compare.SETTLE_SECONDS == 0.01
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5          # title, header, 2 rows, the one round's placement
    assert lines[-1].startswith(
        "float64, 2 / 1 thread(s), 1 round(s) placement not measured: fit ")


def test_fixed_cost_init_puts_the_initialisation_in_the_fixed_work(capsys, monkeypatch):
    import nmf._init
    calls = []
    nndsvd = nmf._init.nndsvd_factors
    monkeypatch.setattr(nmf._init, "nndsvd_factors",
                        lambda *args: calls.append(args[2]) or nndsvd(*args))
    fixed_cost.main(["dense_2000x1000", "-k", "3", "--iterations", "1", "2",
                     "--rounds", "2", "--init", "nndsvda"])
    out = capsys.readouterr().out
    assert "init nndsvda" in out.splitlines()[0]
    assert calls == ["nndsvda"] * 4                # every fit: 2 rounds x 2 lengths
