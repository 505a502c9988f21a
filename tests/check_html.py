"""The built book as a reader sees it: every page opened in headless Chromium.

    python tests/check_html.py [HTML_DIR] [--width 1280] [--json FILE] [--screenshots DIR]

HTML_DIR defaults to ``_build/html`` (what ``make book`` writes; ``make test`` leaves its strict
build in ``_build/strict/_build/html``). Each page under ``book/`` is served on localhost,
opened in a 1280 px wide window, and checked once MathJax has typeset it. Findings, by kind:

* ``mathjax-error``  an equation MathJax could not typeset (``mjx-merror``);
* ``stray-tex``      a ``$`` or a TeX command such as ``\\frac`` left in the page's text (outside
                     code, outputs and typeset math): math the parser did not recognise;
* ``wide-math``      a display equation wider than the text column;
* ``wide-table``     a table wider than the text column;
* ``wide-code``      a code block (input or output) whose lines run past its box;
* ``broken-image``   an image that did not load;
* ``small-figure``   a figure shown at less than ``MIN_SCALE`` of its pixel width, so that its
                     tick labels (10 pt at the 100 dpi that matplotlib renders at) fall below
                     about 9 px on screen.

Exit status 0 when no page has a finding, 1 otherwise (2 when the browser cannot start).
Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``) and Selenium; nothing is downloaded.
"""
from __future__ import annotations

import argparse
import collections
import functools
import http.server
import json
import os
import sys
import threading
from pathlib import Path

MIN_SCALE = 0.65
KINDS = ("mathjax-error", "stray-tex", "wide-math", "wide-table", "wide-code", "broken-image",
         "small-figure")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")

# Wait until MathJax (if the page loads it) has finished typesetting.
WAIT_MATHJAX = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
(function poll() {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { mj.startup.promise.then(() => done(true)); return; }
  if (Date.now() - t0 > 4000) { done(false); return; }
  setTimeout(poll, 100);
})();
"""

# Every check runs in the page; each finding is [kind, short description].
FINDINGS = """
const minScale = arguments[0];
const out = [];
const article = document.querySelector('article.bd-article') || document.querySelector('main')
                || document.body;
const colRight = article.getBoundingClientRect().right + 1;
const text = el => (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 80);
article.querySelectorAll('mjx-merror, [data-mjx-error]').forEach(e =>
  out.push(['mathjax-error', (e.getAttribute('data-mjx-error') || text(e))]));
const skip = 'pre, code, script, style, mjx-container, .MathJax, .math, .cell_output, ' +
             '.output, textarea, .highlight';
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
const tex = /(\\$|\\\\[A-Za-z]{2,})/;
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (n.parentElement && n.parentElement.closest(skip)) continue;
  const m = n.textContent.match(tex);
  if (m) out.push(['stray-tex', JSON.stringify(m[0]) + ' in "' + text(n.parentElement) + '"']);
}
article.querySelectorAll('mjx-container[display="true"]').forEach(e => {
  const box = e.parentElement.getBoundingClientRect();
  const r = (e.querySelector('mjx-math') || e).getBoundingClientRect();
  if (r.right > Math.min(box.right, colRight) + 1 || e.scrollWidth > e.clientWidth + 1)
    out.push(['wide-math', Math.max(Math.round(r.width), e.scrollWidth) + ' px in ' +
              Math.min(Math.round(box.width), e.clientWidth) + ' px: ' +
              text(e.querySelector('mjx-assistive-mml') || e)]);
});
article.querySelectorAll('table').forEach(t => {
  const r = t.getBoundingClientRect();
  const box = t.parentElement.getBoundingClientRect();
  if (r.right > colRight || t.parentElement.scrollWidth > t.parentElement.clientWidth + 1)
    out.push(['wide-table', Math.round(r.width) + ' px in a ' +
              Math.round(article.getBoundingClientRect().width) + ' px column: ' + text(t)]);
});
article.querySelectorAll('pre').forEach(p => {
  if (p.scrollWidth > p.clientWidth + 1)
    out.push(['wide-code', (p.scrollWidth - p.clientWidth) + ' px too wide: ' + text(p)]);
});
article.querySelectorAll('img').forEach(img => {
  const src = (img.getAttribute('src') || '').slice(0, 60);
  if (!img.complete || img.naturalWidth === 0) { out.push(['broken-image', src]); return; }
  const shown = img.getBoundingClientRect().width;
  if (img.naturalWidth > 300 && shown < minScale * img.naturalWidth)
    out.push(['small-figure', 'shown at ' + Math.round(100 * shown / img.naturalWidth) + '% (' +
              Math.round(shown) + ' of ' + img.naturalWidth + ' px): ' + src]);
});
return out;
"""


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _browser(width: int):
    os.environ.setdefault("SE_OFFLINE", "true")       # never let Selenium fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--window-size={width},1000", "--force-device-scale-factor=1"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(60)
    return driver


def check(html: Path, width: int = 1280, screenshots: Path | None = None,
          pages: list[str] | None = None) -> dict[str, list[list[str]]]:
    """Findings per page (``book/<name>.html``) of the book built under ``html``."""
    if not (html / "book").is_dir():
        raise ValueError(f"{html} holds no built book (no book/ folder); run `make book` first")
    names = sorted(p.relative_to(html).as_posix() for p in (html / "book").glob("*.html"))
    if pages:
        names = [n for n in names if Path(n).stem in pages]
    server, base = _serve(html)
    driver = _browser(width)
    found = {}
    try:
        for name in names:
            driver.get(f"{base}/{name}")
            driver.execute_async_script(WAIT_MATHJAX)
            found[name] = driver.execute_script(FINDINGS, MIN_SCALE)
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                h = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(width, min(int(h), 30000))
                driver.save_screenshot(str(screenshots / (Path(name).stem + ".png")))
                driver.set_window_size(width, 1000)
    finally:
        driver.quit()
        server.shutdown()
    return found


def summary(found: dict[str, list[list[str]]]) -> collections.Counter:
    return collections.Counter(kind for items in found.values() for kind, _ in items)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--json", type=Path, help="write every finding to this file")
    ap.add_argument("--screenshots", type=Path, help="save a full-page PNG of each page here")
    ap.add_argument("--pages", nargs="*", help="only these page stems, e.g. 05_dcgan")
    args = ap.parse_args(argv)
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            print(f"check_html: {tool} not found; install Debian's chromium and chromium-driver "
                  "(`bash .ci/browser-deps`)", file=sys.stderr)
            return 2
    found = check(args.html, args.width, args.screenshots, args.pages)
    for name, items in found.items():
        for kind, what in items:
            print(f"{name}: {kind}: {what}")
    counts = summary(found)
    print(f"\n{len(found)} pages at {args.width} px;",
          ", ".join(f"{k} {counts.get(k, 0)}" for k in KINDS))
    if args.json:
        args.json.write_text(json.dumps({"counts": {k: counts.get(k, 0) for k in KINDS},
                                         "pages": found}, indent=1))
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())
