# tutormatch: the two commands of the quick start, and the tools around them.
# Everything runs in .venv, created and filled from pyproject.toml on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench bench-full docs docs-assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes; editable so that src/ edits apply at once.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed-dev
	$(BIN)/tutormatch demo --out out
	$(BIN)/tutormatch demo --objective euros --no-report --no-shortfall --out out-euros

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples tools
	$(BIN)/ruff format --check src tests benchmarks examples tools

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py --quick --out bench-results

bench-full: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py

# The documentation site, into site/: strict (a warning fails), offline, the
# notebooks rendered as stored (the tests execute them).
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The docs' images and report excerpt, from the demo (a test checks the excerpt).
docs-assets: $(VENV)/.installed-dev
	$(BIN)/python tools/docs_assets.py

clean:
	rm -rf out out-euros site .cache .pytest_cache .mypy_cache .ruff_cache
