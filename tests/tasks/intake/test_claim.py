"""One run at a time per file: the SHA-256 claim holds across processes and dies with its holder."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tasks.intake.claim import claim

HOLD = """
import sys, time
from pathlib import Path
from tasks.intake.claim import claim
with claim(Path(sys.argv[1]), "abc") as held:
    print("held" if held else "busy", flush=True)
    time.sleep(60)
"""


def test_a_claim_held_by_another_process_is_busy_until_that_process_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with claim(tmp_path, "abc", wait_seconds=0.5) as held:
            assert held is False and time.monotonic() - started >= 0.5
        with claim(tmp_path, "other") as held:
            assert held is True, "another file's claim is independent"
    finally:
        holder.kill()
        holder.wait()
    with claim(tmp_path, "abc") as held:
        assert held is True, "the kernel released the dead holder's lock"


def test_a_waiting_claim_gets_the_file_once_it_is_released(tmp_path: Path) -> None:
    with claim(tmp_path, "abc") as first:
        assert first
    with claim(tmp_path, "abc", wait_seconds=5) as second:
        assert second
