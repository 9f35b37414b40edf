# The two commands the README promises, and the pieces behind them.
# Everything is installed from this project's own files into .venv; nothing by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test e2e lint docs bench setup clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# GOV.UK Frontend's CSS, JavaScript, fonts and images for the web app, exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

## make run: set up, check the programmes, then the web app and the scheduler on a demo database
## (var/demo.db, seeded on first run; the demo people and password are printed at start-up).
run: setup
	$(BIN)/commission validate
	$(BIN)/commission up --db var/demo.db

## make test: lint, check the docs are current, run every test.
test: setup lint
	$(BIN)/commission docs --check
	$(BIN)/python -m pytest

## make e2e: only the browser tests (real headless Chromium: `apt-get install chromium` first).
e2e: setup
	$(BIN)/python -m pytest tests/e2e

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: setup
	$(BIN)/commission docs

bench: setup
	$(BIN)/python scripts/bench_validate.py
	$(BIN)/python scripts/bench_engine.py
	$(BIN)/python scripts/bench_scheduler.py
	$(BIN)/python scripts/bench_web.py
	$(BIN)/python scripts/bench_kpis.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
