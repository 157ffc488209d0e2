"""Benchmarks at scale: `python -m bench.run` (or `make bench`); see BENCHMARKS.md."""
