"""A guard: every use-case module of ``reportd.app`` has a test module here, over the fake."""

from __future__ import annotations

from pathlib import Path

import reportd.app

# module -> the test module that covers it (a family may share one)
COVERED = {
    "catalog": "test_catalog",
    "deliveries": "test_deliveries",
    "destination_types": "test_destinations",
    "destinations": "test_destinations",
    "dispatcher": "test_webhooks",
    "downloads": "test_downloads",
    "entries": "test_entries",
    "events": "test_events_and_health",
    "exports": "test_exports",
    "health": "test_events_and_health",
    "idempotency": "test_idempotency",
    "keys": "test_keys",
    "library": "test_library",
    "preview": "test_preview",
    "reports": "test_reports",
    "requests": "test_requests",
    "retention": "test_retention",
    "runs": "test_runs",
    "schedules": "test_schedules",
    "search": "test_search",
    "subjects": "test_subjects",
    "tenants": "test_tenants",
    "tenant_templates": "test_tenant_templates",
    "webhooks": "test_webhooks",
}
# Rules, protocols and small helpers tested through the use cases above, or elsewhere.
NOT_USE_CASES = {
    "__init__",
    "access",
    "authentication",  # tests/unit/test_principal_cache.py (async, over AsyncReads)
    "generator",
    "oauth",  # tests/integration/test_oauth.py
    "options",
    "outbound",  # a port: tests/unit/test_outbound_policy.py over the adapter
    "ports",  # the contract suite
    "principals",  # tests/unit/test_principal_cache.py
    "ratelimits",  # tests/unit/test_ratelimit_rules.py
    "report_reads",  # tests/integration/test_async_reads.py (async, over AsyncReads)
    "tenancy",
    "tokens",
    "urls",
    "users",
}


def test_each_use_case_module_has_its_tests() -> None:
    here = Path(__file__).parent
    modules = {p.stem for p in Path(reportd.app.__file__).parent.glob("*.py")}
    assert modules - NOT_USE_CASES == set(COVERED), "a new app module needs a test module"
    for test in set(COVERED.values()):
        assert (here / f"{test}.py").is_file(), test
