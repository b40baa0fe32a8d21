"""compare.py's bookkeeping: traces, iterations to a target, ratios, the tables."""
import math
import time
import types

import numpy as np
import pytest

import compare
from benchmarks import data


def _problem():
    X = data.dense_low_rank((120, 60), seed=3)
    W0, H0 = data.initial_factors(X, 4)
    return X, W0, H0


def _objectives(solver, X, W0, H0, most):
    return [data.objective(X, *solver.fit(X, W0.copy(), H0.copy(), j))
            for j in range(1, most + 1)]


@pytest.mark.parametrize("memoryless", [True, False])
def test_first_reaching_finds_the_iterations_to_the_target(memoryless):
    X, W0, H0 = _problem()
    solver = compare.Solver("nmf cd", compare._nmf_fit(solver="cd"), memoryless=memoryless)
    trace = compare.Trace(solver, X, W0, H0).extend(math.inf, 60)
    objectives = _objectives(solver, X, W0, H0, trace.points[-1][0])
    # a chained trace continues exactly where a longer fit would be
    for iterations, _, objective in trace.points[1:]:
        assert objective == pytest.approx(objectives[iterations - 1], rel=1e-9)
    goal = objectives[0] - 0.9 * (objectives[0] - min(objectives))
    exact = 1 + next(j for j, o in enumerate(objectives) if o <= goal)
    found = compare.first_reaching(trace, goal)
    if memoryless:        # the first chunk end at or past the exact count
        assert exact <= found <= exact + max(1, int(found * compare.CHUNK_GROWTH))
    else:                 # bisected exactly
        assert found == exact
    assert compare.first_reaching(trace, -1.0) is None


def test_trace_stops_at_its_iteration_cap_and_on_a_plateau():
    X, W0, H0 = _problem()
    solver = compare.Solver("nmf cd", compare._nmf_fit(solver="cd"), memoryless=True)
    trace = compare.Trace(solver, X, W0, H0).extend(math.inf, 10)
    assert trace.points[-1][0] == 10
    flat = compare.Trace(solver, X, W0, H0)
    flat.points[0] = (0, 0.0, 0.0)    # nothing can improve on 0: a plateau at once
    flat.extend(math.inf, 100)
    assert flat.flat and len(flat.points) == 2


def test_ratios_are_medians_per_round_and_tables_are_markdown():
    times = {"a": [1.0, 2.0, 10.0], "b": [2.0, 2.0, 2.0]}
    assert compare.per_round_ratio(times, "a", "b") == 1.0
    assert math.isnan(compare.per_round_ratio(times, "a", "missing"))
    lines = compare.table(["x", "y"], [[1, "2"]])
    assert lines == ["| x | y |", "|---|---|", "| 1 | 2 |"]


def test_solvers_report_what_cannot_run():
    pytest.importorskip("sklearn")
    listed = compare.solvers()
    found = {s.name: s for s in listed}
    # in the order a round runs them: scikit-learn's cd right after nmf's
    assert [s.name for s in listed] == ["nmf cd", "sklearn cd", "nmf cd accel", "nmf pg",
                                        "sklearn mu"]
    assert found["nmf cd"].missing == ""
    assert found["sklearn cd"].missing == "" and found["sklearn mu"].missing == ""
    broken = compare.Solver("broken", compare._nmf_fit(solver="cd", no_such_option=1),
                            memoryless=True)
    compare.probe(broken)
    assert "no_such_option" in broken.missing


def test_nmf_products_floor_matches_the_library_products():
    run = compare._nmf_products()
    if run is None:
        pytest.skip("nmf has no product functions")
    X, W0, H0 = _problem()
    Ht = np.ascontiguousarray(H0.T)
    out_n, out_m, out_k = np.empty((120, 4)), np.empty((60, 4)), np.empty((4, 4))
    run(X, W0, Ht, out_n, out_m, out_k)
    np.testing.assert_allclose(out_n, X @ Ht)
    np.testing.assert_allclose(out_m, X.T @ W0)


def test_a_solvers_dtypes_and_thread_counts_run_back_to_back_in_each_round(monkeypatch):
    import nmf

    monkeypatch.setattr(compare, "SETTLE_SECONDS", 0.0)
    calls = []

    def recording(name):
        def fit(X, W, H, max_iter):
            calls.append((name, X.dtype.name, nmf.get_num_threads()))
            return W, H
        return compare.Solver(name, fit, memoryless=True)

    X, _, _ = _problem()
    budget = compare.Budget({"tiny": 2}, {"tiny": 1}, rounds=2, target_rounds=0,
                            trace_seconds=0.0, trace_iterations=0, memory_iterations=1)
    args = types.SimpleNamespace(float32=True, threads=[1, 2])
    case = compare.run_case("tiny", X, 4, args, budget, [recording("a"), recording("b")],
                            None, want_traces_of=set())
    timed_calls = calls[:2 * 2 * 2 * 2]       # the rounds' fits; then the memory fits
    one_round = [(name, dtype, n) for name in "ab" for dtype in ("float64", "float32")
                 for n in (1, 2)]
    assert timed_calls == one_round * 2
    assert len(case["times"]["iter", "float32", 2, "b"]) == 2


@pytest.mark.parametrize("before, after, expected", [
    (60.0, 200.0, "near"), (350.0, 600.0, "far"), (60.0, 350.0, "moved"),
    (350.0, 60.0, "moved"), (None, None, "?"), (60.0, None, "?")])
def test_a_rounds_placement_needs_both_round_trips_to_agree(before, after, expected):
    assert compare.round_placement(before, after) == expected


def test_nmf_cds_thread_ratio_is_shown_by_the_placement_around_its_fits(monkeypatch):
    import nmf
    import placement

    monkeypatch.setattr(compare, "SETTLE_SECONDS", 0.0)
    trips = iter([60.0, 70.0, 350.0, 400.0, 60.0, 400.0] * 2)   # per dtype and round
    probes = []

    def round_trip_ns():
        probes.append(None)
        return next(trips)
    monkeypatch.setattr(placement, "round_trip_ns", round_trip_ns)
    seconds = {1: 1.0, 2: 0.5}

    def fit(X, W, H, max_iter):
        time.sleep(0.01 * seconds[nmf.get_num_threads()])
        return W, H
    X, _, _ = _problem()
    budget = compare.Budget({"tiny": 1}, {"tiny": 1}, rounds=3, target_rounds=0,
                            trace_seconds=0.0, trace_iterations=0, memory_iterations=1)
    args = types.SimpleNamespace(float32=False, threads=[1, 2])
    solvers = [compare.Solver("nmf cd", fit, memoryless=True),
               compare.Solver("sklearn cd", fit, memoryless=True)]
    case = compare.run_case("tiny", X, 4, args, budget, solvers, None, want_traces_of=set())
    assert len(probes) == 2 * 3              # before and after nmf cd's fits, each round
    assert case["times"]["placement", "float64", "nmf cd"] == [
        (60.0, 70.0), (350.0, 400.0), (60.0, 400.0)]
    header, rule, row = compare.placement_table([case], args)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:6] == ["tiny", "float64", "4", "2", "60-400", "1 / 1 / 1"]
    for cell in cells[6:]:                   # near, far, all: about 0.5 each
        assert 0.3 < float(cell) < 0.9
    one_thread = types.SimpleNamespace(float32=False, threads=[1])
    assert compare.placement_section([case], one_thread) == []
