"""Queue latency and throughput: ``python bench/queue.py [--reports 200] [--burst 1000]``.

The benchmark itself is ``bench/_queue_latency.py``. This file only carries the name, and a
guard: a script run from ``bench/`` has this folder first on ``sys.path``, so its ``import
queue`` (asyncio, httpx, psycopg and thread pools all do it) finds this file before the
standard library's. Imported under that name, this module puts the real ``queue`` in its place.
"""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
from pathlib import Path


def _stand_in_for_the_stdlib_queue() -> None:
    path = Path(sysconfig.get_path("stdlib")) / "queue.py"
    spec = importlib.util.spec_from_file_location("queue", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the standard library's queue from {path}")
    real = importlib.util.module_from_spec(spec)
    sys.modules["queue"] = real  # what the import statement hands back
    spec.loader.exec_module(real)


if __name__ == "queue":
    _stand_in_for_the_stdlib_queue()
elif __name__ == "__main__":
    from _queue_latency import main

    main()
