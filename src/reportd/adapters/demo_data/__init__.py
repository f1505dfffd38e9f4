"""The demo's synthetic data set: ``build`` makes the DuckDB file, ``tables`` holds its SQL."""

from __future__ import annotations

from reportd.adapters.demo_data.build import AS_OF, BASE_ROWS, TENANTS, build_demo_database

__all__ = ["AS_OF", "BASE_ROWS", "TENANTS", "build_demo_database"]
