"""padding.py times sparse fits with and without padded rows, alternating."""
import nmf._padding as nmf_padding

import padding


def test_padding_times_both_variants_and_restores_the_rule(capsys, monkeypatch):
    made = []
    real_empty = nmf_padding.line_aligned_empty
    monkeypatch.setattr(nmf_padding, "line_aligned_empty",
                        lambda *shape: made.append(shape[:2]) or real_empty(*shape))
    rule = nmf_padding.padded_row_length
    padding.main(["sparse_20000x5000", "-k", "10", "--iterations", "1", "2",
                  "--rounds", "2"])
    assert nmf_padding.padded_row_length is rule
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("sparse_20000x5000, k=10, 1 thread(s)")
    widths = {line.split(":")[0].strip(): int(line.split(": ")[1].split()[0])
              for line in lines[1:3]}
    assert widths["float64"] == 10                     # 80-byte rows: never padded
    assert widths["float32"] in (10, 16)               # 16 where the L2 is known
    assert all(" padded / plain " in line for line in lines[1:3])
    assert [line.split(":")[0] for line in lines[3:]] == [
        "float32 / float64, padded", "float32 / float64, plain"]
    # 2 rounds x 2 fits padded (float32 only when padded); none plain
    assert made == ([(5000, 16)] * 4 if widths["float32"] == 16 else [])
