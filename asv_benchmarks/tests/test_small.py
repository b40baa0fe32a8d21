"""small.py times 'cd' per iteration on each small problem, for nmf, nmf with its dense
products in its kernels at every size (and scikit-learn when it is installed)."""
import small

from nmf import _products


def test_small_prints_a_row_per_problem(capsys):
    small.main(["--iterations", "3", "--repeats", "2"])
    lines = capsys.readouterr().out.splitlines()
    rows = lines[2:]
    assert [row.split()[0] for row in rows] == ["6x2", "50x20", "200x100", "400x250",
                                                "400x300"]
    columns = len(lines[1].split()) - 1          # the header's names after "problem"
    assert lines[1].split()[1:3] == ["nmf", "kernels"]
    for row in rows:
        values = [float(v) for v in row.split()[2:]]
        assert len(values) == columns and all(v > 0 for v in values)


def test_the_kernels_variant_sends_every_product_to_the_kernels_and_restores_the_rule():
    saved = _products.SMALL_PRODUCT_WORK
    with small.products_in_kernels():
        assert _products.SMALL_PRODUCT_WORK == 0
    assert _products.SMALL_PRODUCT_WORK == saved > 0
