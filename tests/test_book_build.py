"""The book builds with every notebook executed and no Sphinx warning.

Warnings are errors (-W -n --keep-going): broken references, unknown directives or roles,
missing citations and missing glue keys fail the test. The build runs with notebook
execution forced, so no cache from an earlier build can hide a failure, and a raising cell
fails the build (execute.raise_on_error). It is written to ``_build/strict`` (emptied first),
where ``make check-html HTML=_build/strict/_build/html`` (and ``.ci/run``) opens it in a
browser.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


STRICT = ROOT / "_build" / "strict"


def test_book_build_strict():
    shutil.rmtree(STRICT, ignore_errors=True)
    STRICT.mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "force"
    config["execute"].pop("cache", None)
    cfg = STRICT / "_config.yml"
    cfg.write_text(yaml.safe_dump(config))
    jb = shutil.which("jupyter-book", path=os.path.dirname(sys.executable)) or "jupyter-book"
    out = STRICT
    proc = subprocess.run(
        [jb, "build", str(ROOT), "--config", str(cfg), "--path-output", str(out),
         "-W", "-n", "--keep-going"],
        capture_output=True, text=True, cwd=ROOT, timeout=3600)
    log = proc.stdout[-15000:] + proc.stderr[-15000:]
    assert proc.returncode == 0, f"book build failed or warned:\n{log}"
    html = out / "_build" / "html"
    pages = sorted(p.relative_to(html).as_posix() for p in (html / "book").glob("*.html"))
    assert "book/intro.html" in pages and "book/references.html" in pages, pages
