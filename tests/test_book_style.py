"""Code that fits the page: every line of a book code cell fits the text column.

At a 1280 px window the column holds 88 characters of code at the 11.5 px code font that
``_static/custom.css`` sets (tests/check_html.py measures the built pages themselves).
"""
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_CODE_LINE = 88
PAGES = sorted(p for p in (ROOT / "book").glob("*.md") if "jupytext:" in p.read_text()[:400])


def long_lines(source: str, limit: int = MAX_CODE_LINE) -> list[tuple[int, int]]:
    """(line number, length) of each line of ``source`` longer than ``limit``."""
    return [(i, len(s)) for i, s in enumerate(source.splitlines(), 1) if len(s) > limit]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_lines_fit_the_column(page):
    nb = jupytext.read(page)
    bad = [f"cell {k}, line {i}: {n} characters"
           for k, cell in enumerate(nb.cells) if cell.cell_type == "code"
           and "remove-cell" not in cell.metadata.get("tags", [])
           for i, n in long_lines(cell.source)]
    assert not bad, f"{page.name}: code lines over {MAX_CODE_LINE} characters:\n" + "\n".join(bad)


def test_long_lines_counts_characters():
    assert long_lines("x" * 88 + "\n" + "y" * 89) == [(2, 89)]


def _captions(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "caption" and isinstance(v, str):
                yield v
            else:
                yield from _captions(v)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_figure_captions_have_no_roles(page):
    """A role such as {cite} inside a caption breaks the LaTeX build (`make pdf`)."""
    nb = jupytext.read(page)
    bad = [c for cell in nb.cells for c in _captions(cell.metadata.get("mystnb", {}))
           if "{cite" in c or "{ref" in c or "{doc" in c or "{numref" in c]
    assert not bad, f"{page.name}: write citations in captions as plain text: {bad}"
