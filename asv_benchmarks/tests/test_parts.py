"""parts.py times every part of an iteration, for each dtype and thread count."""
import parts

PARTS = ["X H^T", "X^T W", "Grams", "sweep W", "sweep H^T", "floor X H^T", "floor X^T W"]


def test_parts_prints_every_part(capsys, monkeypatch):
    import placement
    trips = iter([60.0, 70.0, 400.0, 500.0])      # near in the first repeat, far in the next
    monkeypatch.setattr(placement, "round_trip_ns", lambda: next(trips))
    parts.main(["dense_2000x1000", "-k", "3", "--threads", "1", "2", "--repeats", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("CPUs near in 1, far in 1")
    rows = lines[2:]
    assert len(rows) == len(PARTS) * 2 * 2          # parts x dtypes x thread counts
    for name in PARTS:
        mine = [row for row in rows if row[:13].strip() == name]
        assert len(mine) == 4
        assert sum("float32" in row for row in mine) == 2
        for row in mine:
            cells = row[13:].split()
            if cells[1] == "2":     # threads; then ms, [f32/f64,] /1 thread, near, far
                assert len(cells) == (7 if cells[0] == "float32" else 6)
                assert all(float(c) > 0 for c in cells[-3:])


def test_parts_adds_the_w_update_on_a_csr_x(capsys):
    parts.main(["sparse_20000x5000", "-k", "3", "--repeats", "1"])
    rows = capsys.readouterr().out.splitlines()[2:]
    names = {row[:13].strip() for row in rows}
    assert names == set(PARTS) | {"W update on X"}
    assert len(rows) == (len(PARTS) + 1) * 2        # one thread count: no placement
