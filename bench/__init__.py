"""Benchmarks of kubectl-dockershim at cluster scale (`python bench/run.py`); not tests: no time is asserted."""
