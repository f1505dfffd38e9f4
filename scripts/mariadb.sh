#!/usr/bin/env bash
# The machine's MariaDB (127.0.0.1:3306, root without a password), which the MySQL source's
# tests run against: started if it is down, then waited for (30 s at most). Called by
# `make test` and .ci/run. If it still does not answer, the tests say so: under CI=true a
# missing MariaDB fails them (tests/conftest.py), it is never silently skipped.
set -euo pipefail
ping() { mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; }
if [ -x /usr/sbin/mariadbd ] && ! ping; then
  echo "starting MariaDB"
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do
    ping && break
    sleep 0.5
  done
fi
ping || echo "MariaDB is not answering on 127.0.0.1:3306" >&2
