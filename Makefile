# conservae — one entry point for set-up, chapters, book and tests.
#   make book   : set up, execute the chapters that are out of date (paper profile), build the HTML book
#   make test   : set up, run the whole test suite (unit tests, smoke notebooks + nbval, browser)
VENV    ?= .venv
PY      := $(VENV)/bin/python
PROFILE ?= paper
JB      := $(VENV)/bin/jupyter-book

.PHONY: book test setup notebooks html smoke browser-deps mathjax check clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of torch from the local disk where it lies there; any torch>=2.1 elsewhere.
	$(PY) -m pip install -q "torch==2.13.0" || $(PY) -m pip install -q "torch>=2.1"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

# Debian's Chromium for the browser test (never `playwright install`).
browser-deps:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# MathJax 3 from npm, copied into book/_vendor (html_extra_path) so the site renders math offline.
MATHJAX := book/_vendor/_static/mathjax/VERSION
$(MATHJAX): $(VENV)/.installed conservae_lib/tooling/booktools.py
	$(PY) -m conservae_lib.tooling.booktools mathjax --force

mathjax: $(MATHJAX)

notebooks: setup
	$(PY) -m conservae_lib run --profile $(PROFILE)

html: setup mathjax
	$(JB) build book -W -n --keep-going

book: notebooks html

check: setup
	$(PY) -m conservae_lib check --profile $(PROFILE)

test: setup browser-deps mathjax
	$(VENV)/bin/pytest

clean:
	rm -rf _build .pytest_cache
