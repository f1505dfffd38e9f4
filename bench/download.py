"""A 1 GiB artifact through a signed link, against nginx serving the same file, in one run.

Makes one CSV report of about ``--mb`` MiB (default 1024) with ``reportd serve`` (SQLite, local
storage), asks for its signed ``download_url``, then downloads with the same client (``curl -o
/dev/null``) from reportd and from Debian's nginx (installed if missing) started on a free
loopback port with a temporary config (sendfile on, one worker, access log off) whose root is
the artifact's own folder, so both serve the very same file from the page cache. ``--runs``
runs a side, taken in turn (nginx, reportd, nginx, ...); it prints the median MB/s (10^6
bytes a second) of each, reportd / nginx, and the peak RSS of the reportd server.
Target: at least 0.5. Usage: ``python bench/download.py [--mb 1024] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from _common import (
    Child,
    admin_key,
    conditions,
    ensure_tool,
    free_port,
    serve,
    wait_finished,
    wait_for_quiet,
    wait_http,
    write_world,
)

# ~102 bytes a CSV line: 10,526,880 rows is about 1 GiB.
BIG_TEMPLATE = """\
id: big
name: Big
source: shop
query: |
  SELECT range AS n, md5(CAST(range AS VARCHAR)) AS digest, repeat('x', 60) AS pad
  FROM range(CAST(:rows AS BIGINT)) WHERE :tenant_id IS NOT NULL
fields:
  - {name: n, type: integer}
  - {name: digest, type: string}
  - {name: pad, type: string}
parameters:
  type: object
  properties:
    rows: {type: integer, default: 1000}
formats: [csv]
display_name: Big
timeout: 3600
retention: 86400
"""
BYTES_PER_ROW = 102

NGINX_CONF = """\
daemon off;
user root;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path {work}/nginx-body;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def curl_mb_s(url: str) -> tuple[float, int]:
    """MB/s (10^6 bytes a second) and bytes of one download, as curl measured it."""
    done = subprocess.run(
        ["curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", url],
        capture_output=True,
        text=True,
        check=True,
    )
    speed, size = done.stdout.split()
    return float(speed) / 1e6, int(size)


def make_artifact(work: Path, mb: int) -> tuple[Child, str, Path, int]:
    """The running server, the signed link, the artifact's path on disk and its size."""
    config = write_world(work)
    (work / "templates" / "big.yaml").write_text(BIG_TEMPLATE)
    key = admin_key(config)
    port = free_port()
    child = serve(config, port, work / "serve.log")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as api:
        rows = mb * 2**20 // BYTES_PER_ROW
        body = {"template_id": "big", "formats": ["csv"], "options": {"rows": rows}}
        start = time.perf_counter()
        created = api.post("/v1/reports", json=body)
        created.raise_for_status()
        report = wait_finished(api, created.json()["id"], timeout=900)
        print(f"made a {rows:,}-row CSV in {time.perf_counter() - start:.1f} s")
        link = api.get(f"/v1/reports/{report['id']}/download_url").json()
    size = int(link["file_size"])
    found = [p for p in (work / "data").rglob("*") if p.is_file() and p.stat().st_size == size]
    if len(found) != 1:
        raise SystemExit(f"cannot tell the artifact file among {found}")
    return child, str(link["download_url"]), found[0], size


def start_nginx(work: Path, root: Path) -> tuple[Child, int]:
    nginx = ensure_tool("nginx", "nginx-light")
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, port=port, root=root))
    child = Child.start([nginx, "-c", str(conf), "-p", str(work)], work / "nginx.log")
    wait_http(f"http://127.0.0.1:{port}/", child)
    return child, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ensure_tool("curl", "curl")
    ensure_tool("nginx", "nginx-light")
    with tempfile.TemporaryDirectory(prefix="reportd-bench-download-") as tmp:
        work = Path(tmp)
        server, link, path, size = make_artifact(work, args.mb)
        nginx, port = start_nginx(work, path.parent)
        try:
            wait_for_quiet()
            plain = f"http://127.0.0.1:{port}/{path.name}"
            curl_mb_s(plain)  # the file into the page cache
            ours: list[float] = []
            base: list[float] = []
            for _ in range(args.runs):
                for side, url in ((base, plain), (ours, link)):
                    speed, got = curl_mb_s(url)
                    if got != size:
                        raise SystemExit(f"{url} gave {got} bytes, not {size}")
                    side.append(speed)
            rss = server.peak_rss_mb()
        finally:
            nginx.stop()
            server.stop()
    print(f"{size / 2**30:.2f} GiB through a signed link vs nginx sendfile, curl, {args.runs} runs")
    print(f"{'side':<10} {'median MB/s':>11} {'runs MB/s':<30}")
    for name, speeds in (("nginx", base), ("reportd", ours)):
        runs = " ".join(f"{s:.0f}" for s in speeds)
        print(f"{name:<10} {statistics.median(speeds):>11.0f} {runs:<30}")
    ratio = statistics.median(ours) / statistics.median(base)
    print(f"reportd / nginx: {ratio:.2f}   reportd server peak RSS {rss:.0f} MB")
    print(f"# {conditions()} (at the end)")


if __name__ == "__main__":
    main()
