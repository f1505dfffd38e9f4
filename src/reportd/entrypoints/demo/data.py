"""The demo's data set; built by ``reportd.adapters.demo_data`` (kept at this path for callers)."""

from __future__ import annotations

from reportd.adapters.demo_data import BASE_ROWS, TENANTS, build_demo_database

__all__ = ["BASE_ROWS", "TENANTS", "build_demo_database"]
