"""One run at a time per file: a lock on the file's SHA-256, held while it is ingested, across processes."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLAIMS = "claims"


@contextmanager
def claim(archive: Path, sha256: str, wait_seconds: float = 0.0) -> Iterator[bool]:
    """Hold `sha256` while the block runs; yields False when another process holds it for longer than
    `wait_seconds`. The kernel drops the lock when its holder dies, so a crashed run never blocks the next one."""
    folder = archive / CLAIMS
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / f"{sha256}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.2)
        yield True
    finally:
        os.close(fd)
