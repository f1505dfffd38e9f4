"""ReversingLabs' official SDK (``reversinglabs-sdk-py3``) and the document's Python samples,
unchanged, against a real server: ``A1000`` with an API key as its token, and with a username
and password (``POST /api-token-auth/``, a user made by ``reportd users create``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from ReversingLabs.SDK.a1000 import A1000

from tests.credentials import make_user
from tests.dialects.test_spectra import EACH_KIND_SAMPLE, STATUS_SAMPLE, assert_pdf_of, launch
from tests.server_fixtures import RunningServer

pytestmark = [
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils"),
    pytest.mark.timeout(300),
]
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def spectra(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with launch(tmp_path_factory.mktemp("spectra-sdk"), backend_database) as running:
        yield running


def _flow(a1000: A1000, sample_hash: str) -> bytes:
    """The SDK's three PDF calls: create, status until ready, download."""
    created = a1000.create_pdf_report(sample_hash).json()
    assert created["status_endpoint"] == f"/api/pdf/{sample_hash}/status"
    for _ in range(600):
        status = a1000.check_pdf_report_creation(sample_hash).json()
        if status["status"] == 2:
            break
        assert status["status"] == 0, status
        import time

        time.sleep(0.1)
    else:
        raise AssertionError("the PDF was not made")
    content: bytes = a1000.download_pdf_report(sample_hash).content
    return content


def test_a1000_with_a_token(spectra: RunningServer, tmp_path: Path) -> None:
    token = spectra.make_key(name="sdk-token", scopes=("reports:read", "reports:write"))
    a1000 = A1000(host=spectra.url, token=token, verify=False)
    assert_pdf_of(EACH_KIND_SAMPLE, _flow(a1000, EACH_KIND_SAMPLE.sha256), tmp_path)


def test_a1000_with_username_and_password(spectra: RunningServer, tmp_path: Path) -> None:
    make_user(spectra, "analyst", PASSWORD)
    a1000 = A1000(host=spectra.url, username="analyst", password=PASSWORD, verify=False)
    assert_pdf_of(STATUS_SAMPLE, _flow(a1000, STATUS_SAMPLE.md5), tmp_path)


def test_a_wrong_password_is_refused(spectra: RunningServer) -> None:
    import requests

    response = requests.post(
        f"{spectra.url}/api-token-auth/",
        data={"username": "analyst", "password": "not it"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    with pytest.raises(Exception):  # noqa: B017 - the SDK raises its own error kinds
        A1000(host=spectra.url, username="nobody", password="whatever!", verify=False)


SEED_CREATE = """
import requests
# Change the values of token and hash_value
token = "exampletoken"
hash_value = "examplehash"
# Change the hostname in the URL
url = f"https://appliance.example.com/api/pdf/{hash_value}/create"
headers = {
"Authorization": f"Token {token}"
}
# Add verify=False in the request if you are using a self-signed SSL certificate
response = requests.get(url, headers=headers)
print(response.text)
"""
SEED_DOWNLOAD = """
import requests
# Change the values of token and hash_value
token = "exampletoken"
hash_value = "examplehash"
# Change the hostname in the URL
url = f"https://appliance.example.com/api/pdf/{hash_value}/download"
headers = {
"Authorization": f"Token {token}"
}
# Add verify=False in the request if you are using a self-signed SSL certificate
response = requests.get(url, headers=headers)
with open("report.pdf", "wb") as f:
    f.write(response.content)
"""


def _as_printed(sample: str, base: str, token: str, hash_value: str) -> str:
    """The document's sample with only its token, hash and hostname changed."""
    return (
        sample.replace('"exampletoken"', repr(token))
        .replace('"examplehash"', repr(hash_value))
        .replace("https://appliance.example.com", base)
    )


def test_the_documents_python_samples_as_printed(
    spectra: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = spectra.make_key(name="sample-runner", scopes=("reports:read", "reports:write"))
    sample = EACH_KIND_SAMPLE.sha1
    exec(_as_printed(SEED_CREATE, spectra.url, token, sample), {})
    assert f"/api/pdf/{sample}/status" in capsys.readouterr().out
    _flow(A1000(host=spectra.url, token=token, verify=False), sample)  # wait until ready
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        exec(_as_printed(SEED_DOWNLOAD, spectra.url, token, sample), {})
    finally:
        os.chdir(here)
    assert_pdf_of(EACH_KIND_SAMPLE, (tmp_path / "report.pdf").read_bytes(), tmp_path)
