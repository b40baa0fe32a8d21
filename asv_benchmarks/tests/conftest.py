"""Make asv_benchmarks/ importable: `benchmarks.data` and `compare`."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
