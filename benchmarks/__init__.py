"""asyncprims benchmarks: ``python benchmarks/run.py`` or ``python -m benchmarks``.

Not a test suite (nothing here is named for pytest to collect).
"""
