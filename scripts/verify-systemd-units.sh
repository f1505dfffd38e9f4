#!/usr/bin/env bash
# `systemd-analyze verify` over deploy/systemd/*.service. The units name the image's paths
# (/opt/reportd/bin/reportd), which do not exist on a build machine, so the check runs on
# copies pointing at REPORTD_BIN (default: the reportd next to this venv's python, else PATH).
# Exit 0 when every unit verifies; non-zero with systemd's own words otherwise.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${REPORTD_BIN:-}"
if [[ -z "$bin" ]]; then
    if [[ -x "$here/.venv/bin/reportd" ]]; then bin="$here/.venv/bin/reportd"; else bin="$(command -v reportd)"; fi
fi
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (scripts/test-services.sh installs Debian's systemd)" >&2; exit 3; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for unit in "$here"/deploy/systemd/*.service; do
    sed "s#/opt/reportd/bin/reportd#$bin#g" "$unit" > "$work/$(basename "$unit")"
done
cd "$work"
# Instantiate the template once, as systemctl would for reportd-worker@1.
cp "reportd-worker@.service" "reportd-worker@1.service"
out="$(systemd-analyze verify --man=no ./reportd-api.service ./reportd-worker@1.service 2>&1)" || { echo "$out" >&2; exit 1; }
# verify exits 0 on some warnings; treat any line about our units as a failure.
if grep -E "reportd-(api|worker)" <<<"$out" >&2; then exit 1; fi
echo "systemd units verified ($(systemd-analyze --version | head -1))"
