"""Dispatch ``python -m ganlib.bench <name> [options]`` to ``ganlib.bench.<name>.main``."""
from __future__ import annotations

import importlib
import pkgutil
import sys

import ganlib.bench as _pkg


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(_pkg.__path__) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = available()
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m ganlib.bench <name> [options]\nbenchmarks: " + ", ".join(names))
        return 0
    if argv[0] not in names:
        print(f"unknown benchmark {argv[0]!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    return importlib.import_module(f"ganlib.bench.{argv[0]}").main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
