"""Build the synthetic demo database that `reportd serve` and `reportd demo` report on.

The data is generated entirely inside DuckDB from ``range()`` and salted ``hash()`` calls, so a
build of a few hundred thousand rows takes about a second and yields the same rows, in the same
order, every time (no clock, no random generator): tests and benchmarks can rely on exact values.

There is one domain per vendor whose API a dialect speaks, so each has data that looks like it:

- ``certificate_orders``: DigiCert CertCentral TLS certificate orders;
- ``cloud_costs``: SpaceONE (Cloudforet) daily cloud cost lines, in the account's currency and in
  USD (so one chart can add them up);
- ``malware_samples``: ReversingLabs Spectra Analyze samples, with real-looking MD5/SHA1/SHA256;
- ``directory_users`` and ``directory_devices``: PingOne users and their MFA devices;
- ``invoices``: getbill.io customer invoices.

Every table has a ``tenant`` column (``demo`` for most rows, ``acme`` for about a tenth), which the
demo templates filter on with ``:tenant_id`` so tenant isolation is visible in the demo. Some text
is deliberately non-ASCII (accents, Korean company names) so every output format is exercised.
Statuses that depend on "today" are computed against the fixed ``AS_OF`` date, never the clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Final

import duckdb

from reportd.adapters.demo_data import tables

__all__ = ["AS_OF", "BASE_ROWS", "TENANTS", "build_demo_database"]

AS_OF: Final = dt.date(2025, 6, 30)
"""The data set's "today": expiry, overdue and last-seen values are relative to it."""

TENANTS: Final = ("demo", "acme")

BASE_ROWS: Final[dict[str, int]] = {
    "certificate_orders": 40_000,
    "cloud_costs": 160_000,
    "malware_samples": 50_000,
    "directory_users": 20_000,
    "directory_devices": 36_000,
    "invoices": 60_000,
}
"""Row counts at ``scale=1.0``; a build scales each, keeping at least ``_MIN_ROWS``."""

_MIN_ROWS: Final = 20


def _rows(table: str, scale: float) -> int:
    """Scale a table's base row count, keeping enough rows for both tenants to show up."""
    return max(_MIN_ROWS, round(BASE_ROWS[table] * scale))


def _statements(scale: float) -> list[tuple[str, str]]:
    """The (table, CREATE TABLE statement) pairs for one build, in dependency order."""
    counts = {table: _rows(table, scale) for table in BASE_ROWS}
    as_of = AS_OF.isoformat()
    return [
        (
            "certificate_orders",
            tables.CERTIFICATE_ORDERS.format(n=counts["certificate_orders"], as_of=as_of),
        ),
        ("cloud_costs", tables.CLOUD_COSTS.format(n=counts["cloud_costs"])),
        ("malware_samples", tables.MALWARE_SAMPLES.format(n=counts["malware_samples"])),
        ("directory_users", tables.DIRECTORY_USERS.format(n=counts["directory_users"])),
        (
            "directory_devices",
            tables.DIRECTORY_DEVICES.format(
                n=counts["directory_devices"], users=counts["directory_users"], as_of=as_of
            ),
        ),
        ("invoices", tables.INVOICES.format(n=counts["invoices"], as_of=as_of)),
    ]


def build_demo_database(path: Path, *, scale: float = 1.0) -> dict[str, int]:
    """Create the demo DuckDB file at ``path`` and return its row count per table.

    The file is built next to ``path`` under a temporary name and renamed into place, so a
    process that opens ``path`` never sees a half-built database, and an existing file (with
    any stale write-ahead log) is replaced whole. ``scale`` multiplies every table's row count
    (``1.0`` gives about 366,000 rows); the rows for a given scale are always the same.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.building")
    _remove(tmp)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(tmp))
        try:
            # Keep generated rows in range() order so the table contents are byte-for-byte
            # repeatable, whatever the thread count.
            con.execute("SET preserve_insertion_order = true")
            for macro in tables.MACROS:
                con.execute(macro)
            for table, statement in _statements(scale):
                con.execute(statement)
                row = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                counts[table] = int(row[0]) if row else 0
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _remove(Path(f"{path}.wal"))
        os.replace(tmp, path)
    finally:
        _remove(tmp)
    return counts


def _remove(path: Path) -> None:
    """Delete a file and its write-ahead log if present (a leftover of an interrupted build)."""
    for candidate in (path, Path(f"{path}.wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
