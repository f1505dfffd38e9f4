# Every target bootstraps its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck bench clean

RUNTIME := $(VENV)/.installed-runtime

venv: $(STAMP)

# make demo needs only what reportd runs on; make test adds the dev tools on top.
$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[s3]'
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev,s3]'
	touch $(STAMP)

demo: $(RUNTIME)
	$(BIN)/reportd demo

test: venv
	bash scripts/test-services.sh
	bash scripts/mariadb.sh
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python bench/export.py
	$(BIN)/python bench/sources.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/queue.py
	$(BIN)/python bench/download.py

clean:
	rm -rf $(VENV) reportd-data reportd-out .pytest_cache .mypy_cache
