"""The child process that runs connectorx for a MySQL stream: Arrow IPC on its stdout.

Why a process: connectorx holds the GIL while it waits on the server, so in the worker's
own process a slow query would stop every other thread (heartbeats, cancel, the watchdog) for
as long as the server takes. Here it blocks only itself; the parent reads the Arrow IPC
stream (which releases the GIL) and can end this process at any moment.

Input: one JSON object on stdin, ``{"url", "sql", "batch_size"}`` (stdin, so that no password
shows in the process list). Output: an Arrow IPC stream; on failure, the message on stderr
and exit status 1.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    request = json.loads(sys.stdin.read())
    import connectorx
    import pyarrow as pa

    try:
        reader = connectorx.read_sql(
            request["url"],
            request["sql"],
            return_type="arrow_stream",
            batch_size=int(request["batch_size"]),
        )
        with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    except BrokenPipeError:
        return 0  # the parent stopped reading: nothing more to say
    except Exception as exc:  # reported to the parent, which raises SourceError
        text = str(exc).strip().splitlines()
        sys.stderr.write((text[0] if text else type(exc).__name__) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
