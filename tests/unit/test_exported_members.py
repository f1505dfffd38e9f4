"""``__all__`` of the public modules says exactly what they offer (like httpx's own test)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import reportd
import reportd.client
from reportd.domain import errors


def test_reportd_all_is_sorted_and_resolves() -> None:
    assert reportd.__all__ == sorted(set(reportd.__all__))
    for name in reportd.__all__:
        assert getattr(reportd, name) is not None, name
    public = {name for name in dir(reportd) if not name.startswith("_")}
    assert public == {name for name in reportd.__all__ if not name.startswith("_")}


def test_reportd_exports_every_error_class() -> None:
    """A new error class in the domain must be exported too, for ``except reportd.X``."""
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.ReportdError)
    }
    assert defined <= set(reportd.__all__)
    for name in defined:
        assert getattr(reportd, name) is getattr(errors, name)


def test_client_all_is_everything_public_it_defines() -> None:
    module = reportd.client
    defined = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
        and (inspect.isclass(value) or inspect.isfunction(value))
    }
    assert defined <= set(module.__all__)
    assert sorted(module.__all__, key=str.casefold) == sorted(set(module.__all__), key=str.casefold)
    for name in module.__all__:
        assert hasattr(module, name), name
    assert reportd.Client is module.Client
    assert reportd.AsyncClient is module.AsyncClient


def test_import_reportd_stays_light() -> None:
    code = (
        "import sys, reportd; "
        "heavy = {'httpx', 'reportd.client', 'fastapi', 'duckdb', 'pyarrow', 'sqlalchemy'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_sdk_and_webhook_verification_need_no_server_code() -> None:
    """``verify_webhook`` lives beside the dispatcher, yet a receiver imports no database code."""
    code = (
        "import sys, reportd.client; "
        "heavy = {'fastapi', 'duckdb', 'pyarrow', 'sqlalchemy', 'reportd.adapters.db'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert "verify_webhook" in reportd.client.__all__
