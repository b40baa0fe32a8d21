"""small.py times 'cd' per iteration on each small problem, for nmf (and scikit-learn
when it is installed)."""
import small


def test_small_prints_a_row_per_problem(capsys):
    small.main(["--iterations", "3", "--repeats", "2"])
    lines = capsys.readouterr().out.splitlines()
    rows = lines[2:]
    assert [row.split()[0] for row in rows] == ["6x2", "50x20", "200x100"]
    columns = len(lines[1].split()) - 1          # the header's names after "problem"
    for row in rows:
        values = [float(v) for v in row.split()[2:]]
        assert len(values) == columns and all(v > 0 for v in values)
