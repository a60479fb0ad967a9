# Probity: one command to set up and run the demo, one to set up and run the tests.
#   make demo    create .venv, install Probity with every extra, run `probity demo`
#   make test    create .venv, install Probity with every extra and the dev tools, run pytest
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint format bench docs-slow clean

$(BIN)/python:
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Probity needs Python >= 3.11, found " + sys.version.split()[0]'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[all,dev]'
	@touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/probity demo

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

format: setup
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

bench: setup docs-slow
	$(BIN)/python -m pip install -q -e '.[all,dev,bench]'
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# The docs examples marked `slow` (tests/docs; docs/cli.md "Examples in the docs").
docs-slow: setup
	PROBITY_DOCS_SLOW=1 $(BIN)/python -m pytest -q tests/docs

clean:
	rm -rf $(VENV) build dist probity-demo .pytest_cache .ruff_cache
