"""Benchmarks behind `make bench`: figures printed as ratios to a baseline of the same run."""
