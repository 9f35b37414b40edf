# The two commands the README promises, and the pieces behind them.
# Everything is installed from this project's own files into .venv; nothing by hand.

PYTHON ?= python3
LOCK := requirements.lock
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
EDITOR_JS := engine/web/static/build/editor.js

.PHONY: run test e2e lint layers docs bench setup lock upgrade clean

setup: $(STAMP) $(NODE_STAMP) $(EDITOR_JS)

# Every Python package, direct and transitive, at the version and hash requirements.lock names;
# a new lock makes a new .venv, so nothing from an older install lingers. The project itself is
# installed editable with the locked setuptools (no build isolation: nothing unpinned is fetched).
$(STAMP): pyproject.toml $(LOCK)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# uv resolves once for every platform and Python from 3.11 (--universal), with hashes. It works
# on a copy (whose pins it keeps unless --upgrade), and the lock is replaced only if it changed,
# so an unchanged lock does not rebuild .venv.
COMPILE = cp $(LOCK) $(LOCK).new && $(BIN)/uv pip compile pyproject.toml --extra dev \
	--generate-hashes --universal --python-version 3.11 --custom-compile-command "make upgrade" \
	-q -o $(LOCK).new $(1) && { cmp -s $(LOCK).new $(LOCK) && rm $(LOCK).new || mv $(LOCK).new $(LOCK); }

## make lock: after editing pyproject.toml's requirements, lock them, keeping every other pin.
lock: setup
	$(call COMPILE)
	$(MAKE) setup

## make upgrade: re-resolve every Python dependency to its newest allowed version, on purpose.
## Review the diff of requirements.lock, run `make test`, and commit the lock on its own.
upgrade: setup
	$(call COMPILE,--upgrade)
	$(MAKE) setup

# GOV.UK Frontend's CSS, JavaScript, fonts and images for the web app, exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The programme editor's code editor: our source and CodeMirror in one file, by esbuild (the
# command is package.json's `build`). Built, never committed; rebuilt when the source or any
# package changes, without a fresh `npm ci` for an edit to the source alone.
$(EDITOR_JS): engine/web/assets/editor.js $(NODE_STAMP)
	npm run --silent build

## make run: set up, check the programmes, then the web app and the scheduler on a demo database
## (var/demo.db, seeded on first run; the demo people and password are printed at start-up).
run: setup
	$(BIN)/commission validate
	$(BIN)/commission up --db var/demo.db

## make test: lint, the lock and the layers, check the docs are current, run every test on
## SQLite; then, when COMMISSION_TEST_DB names a PostgreSQL database, every test again on it.
test: setup lint layers
	$(BIN)/python scripts/check_lock.py
	$(BIN)/commission docs --check
	env -u COMMISSION_TEST_DB $(BIN)/python -m pytest
	@if [ -n "$$COMMISSION_TEST_DB" ]; then echo "Every test again, on PostgreSQL:"; $(BIN)/python -m pytest; fi

## make e2e: only the browser tests (real headless Chromium: `apt-get install chromium` first).
e2e: setup
	$(BIN)/python -m pytest tests/e2e

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The import contract in pyproject.toml's [tool.importlinter]: data flows one way.
layers: setup
	$(BIN)/lint-imports --no-cache

docs: setup
	$(BIN)/commission docs

bench: setup
	$(BIN)/python scripts/bench_validate.py
	$(BIN)/python scripts/bench_engine.py
	$(BIN)/python scripts/bench_scheduler.py
	$(BIN)/python scripts/bench_delivery.py
	$(BIN)/python scripts/bench_web.py
	$(BIN)/python scripts/bench_rush.py
	$(BIN)/python scripts/bench_kpis.py
	$(BIN)/python scripts/bench_pages.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
