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

# The one switch for the suite's parallelism: pytest-xdist workers, each running whole test
# modules (tests/parallel.py). The suite is mostly CPU (a server per module, PDFs, XLSX): one
# worker per core. Measured on 2 cores, a 487-test subset took 70 s of CPU serially, 81 s on 2
# workers, 97 s on 3 (each worker collects the whole suite and sets its session fixtures up).
# `make test PYTEST_WORKERS=0` (like plain `pytest`) runs it serially.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

test: venv
	bash scripts/test-services.sh
	bash scripts/mariadb.sh
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

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
