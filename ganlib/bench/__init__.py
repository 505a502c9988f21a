"""Benchmarks: ``python -m ganlib.bench <name> [options]``.

Each benchmark is a module ``ganlib.bench.<name>`` with a ``main(argv) -> int`` function;
``python -m ganlib.bench`` lists them.
"""
