#!/bin/sh
# Build reportd's virtual environment in VENV from the source tree SRC (pyproject.toml, README.md,
# src/). The Dockerfile's build stage runs exactly this script, and so does
# scripts/check-image-install.sh (the test suite's stand-in for building the image, which needs
# a Docker daemon this project's machines do not have). pip options come from the environment
# (the Dockerfile sets PIP_NO_CACHE_DIR=1; a test run may keep its cache).
set -eu
venv=${1:?usage: install-venv.sh VENV SRC}
src=${2:?usage: install-venv.sh VENV SRC}
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade pip
"$venv/bin/python" -m pip install "$src[s3]"
# Fail the build, not the first request, when a wheel is missing a piece.
"$venv/bin/python" -c "import reportd, boto3, duckdb, pyarrow, fpdf, uvicorn, asyncpg, aiosqlite"
"$venv/bin/reportd" --help >/dev/null
