"""The image's HEALTHCHECK: GET a readiness URL, exit 0 on a 2xx, 1 otherwise.

The API's is ``/readyz`` (503 while the database or a storage is down); a worker container
sets ``REPORTD_HEALTHCHECK_URL`` to its ``[worker] metrics_port`` instead. Standard library
only: the slim image has no curl.
"""

import os
import sys
import urllib.request

port = os.environ.get("REPORTD_SERVER__PORT", "8000")
url = os.environ.get("REPORTD_HEALTHCHECK_URL", f"http://127.0.0.1:{port}/readyz")
try:
    with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (a fixed local URL)
        sys.exit(0 if 200 <= response.status < 300 else 1)
except Exception as exc:  # any failure is "unhealthy"
    print(f"unhealthy: {url}: {exc}", file=sys.stderr)
    sys.exit(1)
