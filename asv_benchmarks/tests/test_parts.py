"""parts.py times every part of an iteration, for each dtype and thread count."""
import parts

PARTS = ["X H^T", "X^T W", "Grams", "sweep W", "sweep H^T", "floor X H^T", "floor X^T W"]


def test_parts_prints_every_part(capsys):
    parts.main(["dense_2000x1000", "-k", "3", "--threads", "1", "2", "--repeats", "2"])
    rows = capsys.readouterr().out.splitlines()[2:]
    assert len(rows) == len(PARTS) * 2 * 2          # parts x dtypes x thread counts
    for name in PARTS:
        mine = [row for row in rows if row[:12].strip() == name]
        assert len(mine) == 4
        assert sum("float32" in row for row in mine) == 2
