"""A workbook's safety pass started ahead, in a child process, while the command imports and connects.

The pass (inflate and scan every sheet: tasks/intake/safety.py) takes ~0.7 s on the 0.35 M-row workbook and holds
the GIL between its zlib and numpy calls, so on a thread it would only take turns with the imports; a child process
runs it on the other core. Its verdict is used only for the very bytes it read (their SHA-256 must be the parsed
bytes'): a refusal is raised as the same UnsafeFileError, a pass lets calamine parse, and anything else (the file
changed since, the child failed or was killed) leaves the decision to the same pass run again in this process.

Run as `python -m tasks.labor.ahead FILE` it is that child: one line of JSON on stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType

# Nothing heavier at the top: the command imports this first, to start the child before its own imports.

WORKBOOKS = (".xlsx", ".xlsm")
WAIT_SECONDS = 300.0  # far past the pass on the largest workbook the limits admit; then it is run here instead


class CheckedAhead:
    """The child checking one workbook; `verdict(data)` waits for it. A context manager: leaving it ends the child."""

    def __init__(self, proc: subprocess.Popen[bytes] | None) -> None:
        self._proc = proc

    @classmethod
    def start(cls, path: Path) -> CheckedAhead:
        """Start the pass on `path` if it is named as a workbook (a CSV's check reads its first megabyte only)."""
        if path.suffix.lower() not in WORKBOOKS:
            return cls(None)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return cls(None)
        return cls(proc)

    def verdict(self, data: bytes) -> bool:
        """True if the child passed exactly `data`; raises its UnsafeFileError if it refused exactly `data`; False
        when it has no word on them (then the caller runs the pass itself)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return False
        try:
            out, _ = proc.communicate(timeout=WAIT_SECONDS)
            said = json.loads(out) if proc.returncode == 0 else {}
        except (subprocess.TimeoutExpired, ValueError):
            _end(proc)
            return False
        if not isinstance(said, dict) or said.get("sha256") != hashlib.sha256(data).hexdigest():
            return False
        refused = said.get("refused")
        if refused is not None:
            from tasks.intake.safety import UnsafeFileError

            raise UnsafeFileError(*refused)
        return said.get("passed") is True

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _end(proc)

    def __enter__(self) -> CheckedAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def _child(path: Path) -> dict:
    """What the child prints: the SHA-256 of the bytes it read, and whether check_file passed or refused them."""
    from tasks.intake.received import open_received  # a symlink or special file is refused unread, as on archiving
    from tasks.intake.safety import LABOR_LIMITS, UnsafeFileError, check_file

    with os.fdopen(open_received(path), "rb") as fh:
        if os.fstat(fh.fileno()).st_size > LABOR_LIMITS.max_file_bytes:
            return {}  # refused by size in the command itself, before any byte is read
        data = fh.read()
    said: dict = {"sha256": hashlib.sha256(data).hexdigest()}
    try:
        check_file(data, path.suffix, LABOR_LIMITS)
    except UnsafeFileError as exc:
        said["refused"] = [exc.rule, exc.zh, exc.en, exc.member]
    else:
        said["passed"] = True
    return said


if __name__ == "__main__":
    print(json.dumps(_child(Path(sys.argv[1])), ensure_ascii=False))
