"""How the suite splits across pytest-xdist workers (``make test`` runs ``-n N --dist loadgroup``).

A *unit* is what one worker runs from start to end, in collection order. Handing out single
tests would make every worker start its own copy of each module's servers, browser and
databases (module-scoped fixtures), so a unit is a test module, split in two when its tests
are parametrised over the two database backends (each backend has its own server anyway).
``SERIAL`` modules wait on process start-up, heartbeats and leases: they share one unit, so they
run one after another on one worker instead of competing with each other for the two cores.
``FIRST`` units are the longest ones: handed out first (then xdist's order, most tests first),
the run does not end waiting on one that started late. The grouping only decides where a test
runs, never what it checks: a test must pass in any unit, alone, or under plain ``pytest``.

xdist's own ``loadgroup`` reads ``xdist_group`` marks from a suffix it appends to node ids, which
pytest 9.2 no longer lets it set, so this scheduler takes the name ``loadgroup`` over;
an ``@name`` suffix, where xdist manages to add one, still wins.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

SERIAL = frozenset(
    {
        "tests/integration/test_processes.py",
        "tests/integration/test_scale_faults.py",
        "tests/integration/test_startup.py",
        "tests/integration/test_worker_faults.py",
    }
)
SERIAL_UNIT = "serial: process start-up, heartbeats and leases"
FIRST = (
    "tests/deploy/test_artifacts.py",  # a fresh venv gets the Dockerfile's pip installs
    "tests/dialects/test_spacectl.py[sqlite]",  # builds spacectl's venv on a new machine
    SERIAL_UNIT,
    "tests/e2e/test_console.py",
    "tests/docs/test_readme.py",
)
BACKENDS = ("sqlite", "postgresql")


def unit_of(nodeid: str) -> str:
    """The unit a test belongs to, from its node id alone (the controller sees nothing else)."""
    if "@" in nodeid and nodeid.rfind("@") > nodeid.rfind("]"):
        return nodeid.rsplit("@", 1)[1]
    path = nodeid.split("::", 1)[0]
    if path in SERIAL:
        return SERIAL_UNIT
    if nodeid.endswith("]") and "[" in nodeid:
        params = nodeid[nodeid.rfind("[") + 1 : -1].split("-")
        for backend in BACKENDS:
            if backend in params:
                return f"{path}[{backend}]"
    return path


class UnitScheduling(LoadScopeScheduling):
    """xdist's scope scheduling over the units above; ``FIRST``, then the most tests first."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self._ordered = False

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:  # the queue is complete by the first assignment
            self._ordered = True
            for unit in reversed(FIRST):
                if unit in self.workqueue:
                    self.workqueue.move_to_end(unit, last=False)
        super()._assign_work_unit(node)
