"""A check on a book page must execute: no `assert` may sit in a code block that never runs.

Only ``{code-cell}`` blocks run (nbval and the book build execute them); a plain fenced block
(```` ```python ````, inside an exercise or a solution or anywhere else) is shown, never run, so
an `assert` there is a claim that nothing checks. Directive bodies (``{solution}``,
``{prf:proof}``, ``{admonition}``, ...) are searched too, at any depth.
"""
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.md"))
ASSERT = re.compile(r"^\s*assert\b", re.MULTILINE)
_MD = MarkdownIt("commonmark").use(front_matter_plugin).use(colon_fence_plugin)


def _directive_body(content: str) -> str:
    """A directive's body without its ``:option: value`` lines (and a YAML ``---`` block)."""
    lines = content.splitlines()
    if lines and lines[0].strip() == "---":
        end = next((i for i, s in enumerate(lines[1:], 1) if s.strip() == "---"), 0)
        lines = lines[end + 1:]
    while lines and lines[0].startswith(":"):
        lines = lines[1:]
    return "\n".join(lines)


def unexecuted_asserts(text: str, where: str = "", offset: int = 0) -> list[str]:
    """Each ``assert`` found in a fenced block that is not a ``{code-cell}`` (with its line,
    approximate inside a directive)."""
    found = []
    for tok in _MD.parse(text):
        if tok.type not in ("fence", "colon_fence"):
            continue
        info = tok.info.strip()
        line = offset + ((tok.map[0] + 1) if tok.map else 0)
        if info.startswith("{code-cell}"):
            continue
        if info.startswith("{"):                      # a directive: look inside it
            found += unexecuted_asserts(_directive_body(tok.content), f"{where}{info.split()[0]}> ", line)
        elif ASSERT.search(tok.content):
            first = ASSERT.search(tok.content).group(0).strip()
            found.append(f"{where}line {line} (```{info or 'text'}): {first} ...")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_assert_in_a_block_that_does_not_run(page):
    bad = unexecuted_asserts(page.read_text())
    assert not bad, (f"{page.name}: asserts in blocks that never execute (make them "
                     f"{{code-cell}} blocks, e.g. a hide-input solution cell):\n" + "\n".join(bad))


def test_the_scan_finds_a_hidden_assert():
    page = ("# t\n\n````{solution} ex1\n:label: s1\n\nText.\n\n```python\nx = 1\nassert x == 1\n```\n"
            "````\n\n```{code-cell} ipython3\nassert True\n```\n\n:::{note}\n```\nassert 0\n```\n:::\n")
    bad = unexecuted_asserts(page)
    assert len(bad) == 2, bad
    assert "{solution}" in bad[0] and "python" in bad[0]
