"""Password-protected zips people can open: ZipCrypto by Info-ZIP ``unzip -P`` (what Windows
Explorer opens too), AES-256 by 7-Zip (Debian ``7zip``: ``7zz``); each refuses a wrong password,
and ``unzip`` cannot open the AES one (the trade-off ``ZipEncryption`` documents)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reportd.domain.formats import Packaging, ZipEncryption
from reportd.generation.formats.packaging import generate_password, package
from tests.conftest import IN_CI

CONTENT = "order_id,customer\n1,Ada\n2,Chloé\n" * 1000
SEVEN_ZIP = shutil.which("7zz") or shutil.which("7z")


def test_the_zip_tools_are_there_in_ci() -> None:
    """CI installs them (scripts/test-services.sh): their tests must not skip silently there."""
    if not IN_CI:
        pytest.skip("outside CI a missing tool only skips its tests")
    assert shutil.which("unzip") and SEVEN_ZIP


@pytest.fixture
def files(tmp_path: Path) -> list[tuple[Path, str]]:
    source = tmp_path / "part.csv"
    source.write_text(CONTENT, encoding="utf-8")
    return [(source, "Orders-2024-01-01.csv")]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("unzip") is None, reason="needs Info-ZIP unzip")
def test_zipcrypto_opens_with_unzip_and_refuses_a_wrong_password(
    files: list[tuple[Path, str]], tmp_path: Path
) -> None:
    password = generate_password()
    dest = package(
        files, Packaging.ZIP, tmp_path / "r.zip", password=password,
        encryption=ZipEncryption.ZIPCRYPTO,
    )  # fmt: skip
    wrong = run("unzip", "-P", "not-the-password", "-d", str(tmp_path / "no"), str(dest))
    assert wrong.returncode != 0
    # ZipCrypto checks a password against one byte of its header: 1 wrong password in 256
    # passes that check, and unzip then writes the garbage it decrypted before the CRC fails
    # it. What holds every time is that a wrong password never yields the content.
    opened = tmp_path / "no" / "Orders-2024-01-01.csv"
    assert not opened.exists() or opened.read_bytes() != CONTENT.encode()
    done = run("unzip", "-P", password, "-d", str(tmp_path / "out"), str(dest))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "Orders-2024-01-01.csv").read_text(encoding="utf-8") == CONTENT


@pytest.mark.skipif(SEVEN_ZIP is None, reason="needs 7-Zip (Debian 7zip)")
def test_zipcrypto_is_what_7zip_calls_it(files: list[tuple[Path, str]], tmp_path: Path) -> None:
    dest = package(
        files, Packaging.ZIP, tmp_path / "r.zip", password="pw-12345",
        encryption=ZipEncryption.ZIPCRYPTO,
    )  # fmt: skip
    listing = run(str(SEVEN_ZIP), "l", "-slt", "-ppw-12345", str(dest)).stdout
    assert "Method = ZipCrypto Deflate" in listing


@pytest.mark.skipif(SEVEN_ZIP is None, reason="needs 7-Zip (Debian 7zip)")
def test_aes_opens_with_7zip_and_refuses_a_wrong_password(
    files: list[tuple[Path, str]], tmp_path: Path
) -> None:
    password = generate_password()
    dest = package(files, Packaging.ZIP, tmp_path / "r.zip", password=password)
    assert "Method = AES-256 Deflate" in run(str(SEVEN_ZIP), "l", "-slt", str(dest)).stdout
    wrong = run(str(SEVEN_ZIP), "x", "-pnot-it", f"-o{tmp_path / 'no'}", "-y", str(dest))
    assert wrong.returncode != 0
    done = run(str(SEVEN_ZIP), "x", f"-p{password}", f"-o{tmp_path / 'out'}", "-y", str(dest))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "Orders-2024-01-01.csv").read_text(encoding="utf-8") == CONTENT
    if shutil.which("unzip"):  # the trade-off: Info-ZIP cannot open AES
        refused = run("unzip", "-P", password, "-d", str(tmp_path / "u"), str(dest))
        assert refused.returncode != 0
        assert "unsupported compression method 99" in refused.stdout + refused.stderr


TEMPLATE = """\
id: t
name: T
source: s
query: SELECT 1 AS a
fields: [{name: a}]
"""


def test_a_template_names_its_cipher(tmp_path: Path) -> None:
    from reportd.adapters.template_files import load_templates
    from reportd.domain.errors import ValidationError

    (tmp_path / "t.yaml").write_text(TEMPLATE + "zip_encryption: zipcrypto\n")
    assert load_templates([tmp_path])["t"].zip_encryption is ZipEncryption.ZIPCRYPTO
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    assert load_templates([tmp_path])["t"].zip_encryption is ZipEncryption.AES256
    (tmp_path / "t.yaml").write_text(TEMPLATE + "zip_encryption: rot13\n")
    with pytest.raises(ValidationError, match="zip_encryption"):
        load_templates([tmp_path])


def test_generated_passwords_never_start_with_a_dash() -> None:
    """``unzip -P -abc`` reads the password as an option: people could not type it."""
    assert all(not generate_password().startswith("-") for _ in range(2000))
