"""How ``make test`` splits the suite over xdist workers (tests/parallel.py): by node id alone."""

from __future__ import annotations

from tests.parallel import FIRST, SERIAL, SERIAL_UNIT, unit_of


def test_a_module_is_one_unit_so_its_module_fixtures_start_once() -> None:
    assert unit_of("tests/unit/test_query.py::test_full_query") == "tests/unit/test_query.py"
    assert unit_of("tests/unit/test_signing.py::test_x[12]") == "tests/unit/test_signing.py"
    assert unit_of("tests/e2e/test_console.py::test_sign_in") == "tests/e2e/test_console.py"


def test_a_module_over_both_backends_is_one_unit_per_backend() -> None:
    module = "tests/dialects/test_spectra.py"
    assert unit_of(f"{module}::test_a[sqlite]") == f"{module}[sqlite]"
    assert unit_of(f"{module}::test_b[postgresql-sha1]") == f"{module}[postgresql]"
    assert unit_of(f"{module}::test_c[sha256-postgresql]") == f"{module}[postgresql]"
    # A parameter that merely contains a backend's name is not one.
    assert unit_of(f"{module}::test_d[not_sqlite]") == module


def test_the_start_up_and_fault_modules_share_one_unit() -> None:
    units = {unit_of(f"{path}::test_x[sqlite]") for path in SERIAL}
    assert units == {SERIAL_UNIT}
    assert SERIAL_UNIT in FIRST


def test_an_explicit_xdist_group_suffix_wins() -> None:
    assert unit_of("tests/unit/test_query.py::test_full_query@alone") == "alone"
    # An @ inside a parameter id is not a group.
    assert unit_of("tests/unit/test_query.py::test_q[a@b]") == "tests/unit/test_query.py"
