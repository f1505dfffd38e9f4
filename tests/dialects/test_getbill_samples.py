"""getbill's printed samples (seeds/004_a0209f68423855b5.txt) run as printed against a real
server, with only the base URL, the report id and the access token substituted:
``download_report()`` in Python with ``requests``, and ``downloadReport()`` in JavaScript under
Node's own ``fetch``. The access token comes from getbill's ``POST /token`` (client credentials).

The seed document lost the samples' line breaks; they are set back as getbill's page prints them.
``downloadReport()`` ends in browser calls (``window.URL.createObjectURL``, ``document``): Node
has no DOM, so the test gives it the four it calls and reads back the blob it was handed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.credentials import make_client
from tests.server_fixtures import RunningServer, start_server

pytestmark = pytest.mark.timeout(300)

PYTHON_SAMPLE = """\
import requests
import os

def download_report(report_id, access_token, save_path=None):
    try:
        # Get download information
        info_response = requests.get(
            f'/external-api/v1/reports/download/{report_id}',
            headers={'Authorization': f'Bearer {access_token}'}
        )
        info_response.raise_for_status()
        download_info = info_response.json()['data']

        # Download the actual file
        file_response = requests.get(download_info['download_url'])
        file_response.raise_for_status()

        # Save to file
        filename = save_path or download_info['filename']
        with open(filename, 'wb') as f:
            f.write(file_response.content)

        print(f'Report downloaded successfully: {filename}')
        return filename

    except requests.RequestException as e:
        print(f'Download failed: {e}')
        return None
"""

JS_SAMPLE = """\
async function downloadReport(reportId, accessToken) {
  try {
    // Get download information
    const infoResponse = await fetch(
      `/external-api/v1/reports/download/${reportId}`,
      {
        headers: {
          'Authorization': `Bearer ${accessToken}`
        }
      }
    );

    if (!infoResponse.ok) {
      throw new Error('Failed to get download information');
    }

    const downloadInfo = await infoResponse.json();

    // Download the actual file
    const fileResponse = await fetch(downloadInfo.data.download_url);

    if (!fileResponse.ok) {
      throw new Error('Failed to download file');
    }

    // Create blob and download
    const blob = await fileResponse.blob();
    const url = window.URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = downloadInfo.data.filename;
    document.body.appendChild(a);
    a.click();

    // Cleanup
    window.URL.revokeObjectURL(url);
    document.body.removeChild(a);
  } catch (error) {
    console.error('Download failed:', error);
  }
}
"""

# What a browser would give the sample: a blob URL, an <a> that "downloads" on click.
NODE_HARNESS = """\
const fs = require('fs');
const blobs = new Map();
globalThis.window = { URL: {
  createObjectURL: (blob) => { const u = 'blob:' + blobs.size; blobs.set(u, blob); return u; },
  revokeObjectURL: (u) => {},
} };
const saved = [];
globalThis.document = {
  createElement: () => ({ click() { saved.push(this); } }),
  body: { appendChild: () => {}, removeChild: () => {} },
};
%SAMPLE%
(async () => {
  await downloadReport(%ID%, %TOKEN%);
  for (const a of saved) {
    const bytes = Buffer.from(await blobs.get(a.href).arrayBuffer());
    fs.writeFileSync(require('path').join(%OUT%, a.download), bytes);
  }
  console.log(JSON.stringify(saved.map((a) => a.download)));
})();
"""


@pytest.fixture(scope="module")
def server(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("getbill-samples")
    with start_server(root, database_url=backend_database) as running:
        yield running


@pytest.fixture(scope="module")
def access_token(server: RunningServer) -> str:
    """From getbill's token endpoint, as getbill's Authentication page asks for it."""
    client_id, secret = make_client(server, name="getbill-app", scopes="reports:read,reports:write")
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        "scope": "reports:read reports:write",
    }
    response = httpx.post(f"{server.url}/token", data=form)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 3600
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def report(server: RunningServer, access_token: str) -> tuple[str, bytes]:
    """A finished CSV report: (id, its bytes through the native API)."""
    headers = {"Authorization": f"Bearer {access_token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
        made = api.post("/external-api/v1/reports", json={"template_id": "orders", "format": "csv"})
        report_id = made.json()["data"]["id"]
        for _ in range(900):
            if api.get(f"/v1/reports/{report_id}").json()["state"] == "FINISHED":
                break
            time.sleep(0.1)
        return report_id, api.get(f"/v1/reports/{report_id}/download").content


def with_base(sample: str, base: str) -> str:
    return sample.replace("`/external-api/", f"`{base}/external-api/").replace(
        "f'/external-api/", f"f'{base}/external-api/"
    )


def test_python_download_report_as_printed(
    server: RunningServer, access_token: str, report: tuple[str, bytes], tmp_path: Path
) -> None:
    namespace: dict[str, object] = {}
    exec(with_base(PYTHON_SAMPLE, server.url), namespace)
    download_report = namespace["download_report"]
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        filename = download_report(report[0], access_token)  # type: ignore[operator]
        assert download_report("report_abc123", access_token) is None  # its except branch
    finally:
        os.chdir(here)
    assert (tmp_path / str(filename)).read_bytes() == report[1]


@pytest.mark.skipif(shutil.which("node") is None and not IN_CI, reason="needs node")
def test_javascript_download_report_under_node_fetch(
    server: RunningServer, access_token: str, report: tuple[str, bytes], tmp_path: Path
) -> None:
    script = (
        NODE_HARNESS.replace("%SAMPLE%", with_base(JS_SAMPLE, server.url))
        .replace("%ID%", json.dumps(report[0]))
        .replace("%TOKEN%", json.dumps(access_token))
        .replace("%OUT%", json.dumps(str(tmp_path)))
    )
    (tmp_path / "sample.js").write_text(script)
    done = subprocess.run(
        ["node", str(tmp_path / "sample.js")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Download failed" not in done.stderr, done.stderr
    [name] = json.loads(done.stdout)
    assert (tmp_path / name).read_bytes() == report[1]
