"""Benchmarks for the targets in DESIGN.md ("Targets"): run ``python -m benchmarks.run``."""
