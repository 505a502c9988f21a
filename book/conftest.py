"""nbval collects only the notebooks that the book's table of contents lists.

A notebook under book/ that is not yet in `_toc.yml` (work in progress) is not run by
`make test`; `make page PAGE=<name>` builds and checks it on its own.
"""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _toc_files(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                found.add(value)
            else:
                found |= _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            found |= _toc_files(item)
    return found


TOC_FILES = _toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".ipynb":
        rel = collection_path.resolve().relative_to(ROOT).with_suffix("").as_posix()
        return rel not in TOC_FILES
    return None
