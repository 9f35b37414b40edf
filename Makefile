# The two commands the README promises, and the pieces behind them.
# Everything is installed from this project's own files into .venv; nothing by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint docs bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: set up, check the three programmes and show what the engine reads from them.
run: setup
	$(BIN)/commission validate
	@for f in programmes/*.yaml; do $(BIN)/commission inspect $$f; echo; done

## make test: lint, check the docs are current, run every test.
test: setup lint
	$(BIN)/commission docs --check
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: setup
	$(BIN)/commission docs

bench: setup
	$(BIN)/python scripts/bench_validate.py
	$(BIN)/python scripts/bench_engine.py
	$(BIN)/python scripts/bench_scheduler.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
