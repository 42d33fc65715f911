# Vigía — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready

.PHONY: demo test bench lint install clean models

# The environment is rebuilt when pyproject.toml changes.
$(READY): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Vigía needs Python 3.11 or newer (set PYTHON=python3.12, for example)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(READY)

install: $(READY)

## One full monitoring pass on the bundled demo data (no network needed). The demo has its
## own settings, database and outbox (var/demo/), apart from your brand's settings.toml.
demo: $(READY)
	$(BIN)/monitor --settings examples/demo/settings.toml run --once

## The test suite (SQLite always; PostgreSQL too when VIGIA_TEST_DATABASE_URL is set).
test: $(READY)
	$(BIN)/python -m pytest -q

## Benchmarks: ratios against baselines measured in the same run.
bench: $(READY)
	$(BIN)/python -m benchmarks

## The learned layer's shipped models (classifiers/models/*.json), rebuilt from the team's
## labelled posts (classifiers/training/) with fixed seeds: the same bytes every time.
models: $(READY)
	$(BIN)/python -m classifiers.learning --out classifiers/models

lint: $(READY)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
