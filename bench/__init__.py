"""Benchmarks: each ``bench/bench_*.py`` module is runnable as ``python -m bench.<name>`` and has ``main()``.

``python -m bench`` runs them all in turn (``make bench``). Numbers go to ``docs/performance/<name>.md``.
"""
