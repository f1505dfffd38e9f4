"""Render the demo's reports to the PNGs in docs/images/ that docs/reports.md shows.

Runs ``reportd export`` on the embedded demo (a throwaway data folder), then poppler's
pdftoppm on the PDF's first and last pages, and LibreOffice (headless, XLSX -> PDF) then
pdftoppm on the XLSX, so the pictures are what a reader's own tools show. LibreOffice is
pointed (by a fontconfig file of its own) at the Noto Sans CJK font reportd's wheel brings,
so Korean shows as it does on a reader's machine with Office fonts.

    .venv/bin/python scripts/report_pictures.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPORTD = Path(sys.executable).with_name("reportd")
PDF_JOB = ["-t", "certificate_orders", "-f", "pdf", "--filter", 'product sw "ssl"']
# A month of invoices: one page in LibreOffice, the total row in view.
XLSX_JOB = ["-t", "invoices", "-f", "xlsx", "--option", "since=2025-06-30"]
XLSX_JOB += ["--option", "status=open"]  # the demo's last day of open invoices: one page
DPI = "80"


def export(data: Path, job: list[str], output: Path) -> None:
    command = [str(REPORTD), "export", "--data-dir", str(data), *job, "-o", str(output)]
    subprocess.run([*command, "--force"], check=True, timeout=900)


def page_png(pdf: Path, page: int, target: Path) -> None:
    paths = (str(pdf), str(target.with_suffix("")))
    subprocess.run(
        ["pdftoppm", "-r", DPI, "-png", "-singlefile", "-f", str(page), "-l", str(page), *paths],
        check=True,
    )


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def fontconfig(folder: Path) -> dict[str, str]:
    """The environment for LibreOffice: the system's fonts plus the CJK wheel's."""
    from importlib import resources

    cjk = Path(str(resources.files("noto_cjk_sans_otc")))
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{cjk}</dir><cachedir>{folder}/fc-cache</cachedir></fontconfig>"
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def xlsx_to_pdf(xlsx: Path, folder: Path) -> Path:
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        raise SystemExit("LibreOffice is needed: apt-get install libreoffice-calc-nogui")
    convert = ("--convert-to", "pdf", "--outdir", str(folder), str(xlsx))
    subprocess.run(
        [office, f"-env:UserInstallation=file://{folder}/profile", "--headless", *convert],
        check=True,
        capture_output=True,
        timeout=300,
        env=fontconfig(folder),
    )
    return folder / f"{xlsx.stem}.pdf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pdf, xlsx = work / "certificate-orders.pdf", work / "invoices.xlsx"
        export(work / "data", PDF_JOB, pdf)
        export(work / "data", XLSX_JOB, xlsx)
        page_png(pdf, 1, args.out / "report-pdf-first-page.png")
        page_png(pdf, pages(pdf), args.out / "report-pdf-last-page.png")
        page_png(xlsx_to_pdf(xlsx, work), 1, args.out / "report-xlsx-libreoffice.png")
    for name in ("first-page", "last-page"):
        print(args.out / f"report-pdf-{name}.png")
    print(args.out / "report-xlsx-libreoffice.png")


if __name__ == "__main__":
    main()
