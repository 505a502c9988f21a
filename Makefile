# Two commands: `make book` builds the book with every notebook executed,
# `make test` runs the unit tests, every notebook (nbval) and a strict book build.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHONUNBUFFERED := 1
# Parallel pytest workers (two notebooks at a time on a 2-core machine).
WORKERS ?= 2

.PHONY: book test unit page seeds sync check-html mutants pdf clean help
help:
	@echo "make book   - set up .venv and build the HTML book (_build/html), notebooks executed"
	@echo "make test   - set up .venv and run unit tests, nbval on every notebook, strict book build"
	@echo "make unit   - unit tests only"
	@echo "make seeds  - every notebook under each seed of SEEDS (default: 0 to 7)"
	@echo "make check-html [HTML=_build/html] - open every built page in headless Chromium"
	@echo "make mutants - mutation testing of the math modules (mutmut; not part of CI)"
	@echo "make pdf    - the whole book as one PDF (LaTeX from Debian's TeX Live)"
	@echo "make page PAGE=02_vanilla_gan - build one chapter alone, strictly"
	@echo "make sync   - regenerate book/*.ipynb from book/*.md (the Markdown is the source)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

# jupyter-cache keys on code cells only: clear it when ganlib/ (or the config) changes.
book: $(STAMP)
	@mkdir -p _build
	@h=$$(cat ganlib/*.py pyproject.toml _config.yml | sha256sum | cut -c1-16); \
	if [ "$$(cat _build/.ganlib-hash 2>/dev/null)" != "$$h" ]; then \
	  echo "ganlib changed: clearing the execution cache"; rm -rf _build/.jupyter_cache; \
	  echo $$h > _build/.ganlib-hash; fi
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# Torch threads per notebook when WORKERS notebooks run at once.
THREADS = $$(( $$(nproc) / $(WORKERS) > 0 ? $$(nproc) / $(WORKERS) : 1 ))

test: $(STAMP)
	GANLIB_THREADS=$(THREADS) $(PY) -m pytest -n $(WORKERS) --dist loadfile --nbval-lax --nbval-cell-timeout=900 \
	  --durations=0 tests book

unit: $(STAMP)
	$(PY) -m pytest -n $(WORKERS) tests -k "not book_build"

SEEDS ?= 0 1 2 3 4 5 6 7
seeds: $(STAMP)
	for s in $(SEEDS); do echo "== GANLIB_SEED=$$s"; \
	  GANLIB_SEED=$$s GANLIB_THREADS=$(THREADS) $(PY) -m pytest -n $(WORKERS) --dist loadfile --nbval-lax \
	  --nbval-cell-timeout=900 book || exit 1; done

# Build one chapter alone (intro + PAGE + references), strictly, into _build/page-PAGE.
page: $(STAMP)
	@test -n "$(PAGE)" || { echo "usage: make page PAGE=02_vanilla_gan"; exit 2; }
	@mkdir -p _build/page-$(PAGE)
	@printf 'format: jb-book\nroot: book/intro\nchapters:\n  - file: book/$(PAGE)\n  - file: book/references\n' > _build/page-$(PAGE)/_toc.yml
	@sed 's#^\(  *execute_notebooks:\).*#\1 force#' _config.yml > _build/page-$(PAGE)/_config.yml
	$(VENV)/bin/jupyter-book build . --toc _build/page-$(PAGE)/_toc.yml \
	  --config _build/page-$(PAGE)/_config.yml --path-output _build/page-$(PAGE) -W -n --keep-going

sync: $(STAMP)
	$(VENV)/bin/jupytext --update --to ipynb $$(grep -l '^jupytext:' book/*.md)

# The built book in a real browser (tests/check_html.py); needs Debian's chromium and
# chromium-driver (`bash .ci/browser-deps` installs them).
HTML ?= _build/html
check-html: $(STAMP)
	$(PY) tests/check_html.py $(HTML) --json _build/check-html.json

# Mutation testing of the math modules against their unit tests (slow: about an hour on two
# cores; not part of CI). The score is printed at the end and kept in _build/mutants.txt.
mutants: $(STAMP)
	$(PY) -m pip install -q mutmut==3.8.1
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children $$(nproc) || true
	$(VENV)/bin/mutmut export-cicd-stats
	@mkdir -p _build && $(VENV)/bin/mutmut results > _build/mutants.txt 2>&1 || true
	$(PY) tests/mutation_score.py mutants/mutmut-cicd-stats.json | tee -a _build/mutants.txt

# LaTeX builder, then latexmk with Debian's TeX Live (texlive-latex-extra, latexmk,
# texlive-xetex); notebooks are executed (cached) as for `make book`.
pdf: $(STAMP)
	rm -rf _build/latex
	$(VENV)/bin/jupyter-book build . --builder pdflatex
	@ls -l _build/latex/*.pdf

clean:
	rm -rf _build
