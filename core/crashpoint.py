"""Test-only crash points: with FUPIN_TEST_PAUSE_AT=<name> in the environment, pause_at(<name>) says so and sleeps.

The reliability tests (tests/reliability/test_crash.py) use it to SIGKILL an ingest at an exact point: "archive"
(original bytes written to a temporary file, not yet renamed into place) and "load" (inside the load transaction,
submission row written, figures not yet); "load:3" pauses 3 s instead of 120, so that two concurrent
ingests (tests/reliability/test_concurrency.py) surely overlap. Unset, it costs one dictionary lookup. It is read
here, not through Settings, because it is not a setting: production never sets it.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "FUPIN_TEST_PAUSE_AT"
PAUSED = "FUPIN_TEST_PAUSED"


def pause_at(name: str) -> None:
    """Announce `name` on stderr and sleep if the environment asks to pause here ("load", or "load:3" for 3 s)."""
    wanted, _, seconds = os.environ.get(PAUSE_ENV, "").partition(":")
    if wanted != name:
        return
    # os.write, not print: a flow with log_prints would turn a print into a log record.
    os.write(sys.stderr.fileno(), f"{PAUSED} {name} pid={os.getpid()}\n".encode())
    time.sleep(float(seconds or 120))
