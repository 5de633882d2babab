"""Benchmarks at the size of a large partner network: ``python -m bench`` (or ``kpibot bench``)."""
