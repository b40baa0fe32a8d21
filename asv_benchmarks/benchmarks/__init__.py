"""asv benchmarks of nmf: fits, transform, inits and per-call overhead.

Shared data and helpers live in data.py; compare.py (one level up) reuses them so
that the asv suite and the side-by-side comparison with scikit-learn run on the
same matrices.
"""
