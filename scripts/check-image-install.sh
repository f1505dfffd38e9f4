#!/usr/bin/env bash
# The Dockerfile's install steps without Docker (no daemon on this project's machines):
# copy what the build stage COPYs into a scratch tree, run the same deploy/docker/install-venv.sh
# into a fresh venv, check the runtime stage's Debian packages exist in the archive, copy the
# healthcheck, then run the installed `reportd config check` on the example production config.
# Slow (a full pip install: about a minute with a warm pip cache). Usage: scripts/check-image-install.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cp "$here/pyproject.toml" "$here/README.md" "$work/src/"          # COPY pyproject.toml README.md ./
cp -r "$here/src" "$work/src/src"                                  # COPY src ./src
find "$work/src/src" -name __pycache__ -prune -exec rm -rf {} +
PIP_DISABLE_PIP_VERSION_CHECK=1 sh "$here/deploy/docker/install-venv.sh" "$work/venv" "$work/src"
if command -v apt-cache >/dev/null; then                           # the runtime stage's apt-get
    while read -r package; do
        [[ -z "$package" ]] && continue
        apt-cache show "$package" >/dev/null 2>&1 || { echo "Debian has no package $package" >&2; exit 1; }
    done < "$here/deploy/docker/apt-runtime.txt"
fi
"$work/venv/bin/python" -m py_compile "$here/deploy/docker/healthcheck.py"
REPORTD_SERVER__SECRET=image-check-secret "$work/venv/bin/reportd" config check \
    --config "$here/deploy/reportd.toml" >/dev/null
echo "image install steps passed in a fresh venv ($("$work/venv/bin/python" --version))"
