"""Every notebook page (book/*.md with a jupytext header) has an .ipynb twin with the same cells.

`jupytext --diff` exits 0 even when a pair differs, so the comparison is done here: cell by
cell, type, source and tags must agree. Regenerate with `make sync`.
"""
from pathlib import Path

import importlib.util

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

# The table of contents decides what is in the book (book/conftest.py parses it for nbval).
_spec = importlib.util.spec_from_file_location("book_conftest", BOOK / "conftest.py")
_toc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_toc)


def _is_notebook_page(path: Path) -> bool:
    text = path.read_text()
    return text.startswith("---") and "jupytext:" in text.split("---", 2)[1]


PAGES = sorted(p for p in BOOK.glob("*.md")
               if _is_notebook_page(p) and p.relative_to(ROOT).with_suffix("").as_posix() in _toc.TOC_FILES)


def test_every_toc_entry_exists():
    missing = [f for f in _toc.TOC_FILES if not (ROOT / f"{f}.md").exists()]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"


def _cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


def test_there_are_notebook_pages():
    assert PAGES, "no paired notebook pages found under book/"


@pytest.mark.parametrize("md", PAGES, ids=lambda p: p.name)
def test_pair_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{md.name} has no {ipynb.name}; run `make sync`"
    a, b = _cells(jupytext.read(md)), _cells(jupytext.read(ipynb))
    assert len(a) == len(b), f"{md.name}: {len(a)} cells, {ipynb.name}: {len(b)}; run `make sync`"
    for i, (ca, cb) in enumerate(zip(a, b)):
        assert ca == cb, f"cell {i} differs between {md.name} and {ipynb.name}; run `make sync`"


@pytest.mark.parametrize("md", PAGES, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(md):
    nb = jupytext.read(md.with_suffix(".ipynb"))
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("outputs")]
    assert not dirty, f"{md.stem}.ipynb has outputs in cells {dirty}; commit it clean"


@pytest.mark.parametrize("md", PAGES, ids=lambda p: p.name)
def test_first_cell_installs_ganlib_in_colab_only(md):
    nb = jupytext.read(md)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "google.colab" in first.source and "pip install" in first.source, \
        f"{md.name}: the first code cell must install ganlib when running in Colab"
    assert "remove-cell" in first.metadata.get("tags", []), f"{md.name}: tag the install cell remove-cell"
