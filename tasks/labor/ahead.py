"""A labor file read, checked and keyed ahead, in a child process, while the command archives, imports and connects.

`fupin labor` starts `python -m tasks.labor.ahead` first thing: the child imports pandas, pandera and the reader
(its longest step) while the command archives the file, then is told the archived copy (the pipeline's own record,
never the sender's file). It reads it batch by batch exactly as the command would (a workbook's safety pass first),
runs the contract on each batch and makes the kept rows' person keys, on the other core: while this process imports
SQLAlchemy, reads config/ and connects, and later while it loads one batch, the child checks the next. The checked
batches come back over a pipe, in file order; a file the reader refuses comes back as the same LaborFileError.
Should the child fail or be killed, the caller reads on in-process from the first batch it did not get, so the
outcome never depends on the child.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

# Nothing heavier at the top: the command imports this first, to start the child before its own imports.
if TYPE_CHECKING:
    from tasks.intake.archive import Received
    from tasks.labor.tally import LaborCheck

BATCH_ROWS = 200_000  # rows checked, keyed and loaded at a time: memory follows the batch, not the file
FIRST_ROWS = 10_000  # the child's first batch (then growing): the load starts once the child has imported
PIPE_BYTES = 1 << 20  # Linux's default cap for an unprivileged process


class ReadAhead:
    """The child; `read()` tells it the archived file, `checks()` takes its batches. A context manager: leaving it
    ends the child."""

    def __init__(self, proc: subprocess.Popen[bytes] | None) -> None:
        self._proc = proc
        self.received: Received | None = None  # the archived file, once the child is told it
        self.batch_rows, self.first_rows = BATCH_ROWS, FIRST_ROWS
        self.complete = False  # set once the child's batches were the whole file

    @classmethod
    def start(cls) -> ReadAhead:
        """Start the child; it imports, then waits to be told a file."""
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # a traceback could quote a cell: nothing of the child is shown or kept
            )
        except OSError:
            return cls(None)
        if proc.stdout is not None and hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: a batch crosses in MB, not 64 KB
            with contextlib.suppress(OSError):
                fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        return cls(proc)

    def read(self, received: Received, name: str, config_dir: Path | None, key: bytes) -> None:
        """Tell the child the archived file; `name` is the sender's file name, for the reader's messages; `key` the
        PII key, for the person keys."""
        self.received = received
        ask = {
            "path": str(received.path),
            "name": name,
            "config_dir": config_dir and str(config_dir),
            "key": key.hex(),
            "batch_rows": self.batch_rows,
            "first_rows": self.first_rows,
        }
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            # On stdin, never argv or the environment: it holds the key, and a file's name.
            proc.stdin.write(json.dumps(ask).encode())
            proc.stdin.close()
        except OSError:
            self.close()

    def checks(self) -> Iterator[LaborCheck]:
        """The child's checked batches in file order, once (a second call yields none); raises the reader's
        LaborFileError; stops early, `complete` left False, if the child ended without its last word."""
        proc, self._proc = self._proc, None
        if proc is None or self.received is None:
            return
        assert proc.stdout is not None  # asked for in start()
        try:
            while True:
                try:
                    # Our own child, started above from this module, on a pipe no one else holds.
                    kind, *body = pickle.load(proc.stdout)  # noqa: S301
                except Exception:  # noqa: BLE001 - any broken word from the child means: read on in-process
                    return
                if kind == "check":
                    yield body[0]
                elif kind == "refused":
                    from tasks.labor.errors import LaborFileError

                    raise LaborFileError(body[0], rule=body[1])
                else:
                    self.complete = True
                    return
        finally:
            _end(proc)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _end(proc)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def _child() -> None:
    """Import, read the request on stdin, then write each checked batch and ("end",) or the reader's refusal."""
    out = open(sys.stdout.fileno(), "wb", closefd=False)  # noqa: SIM115 - the pipe lives as long as the process
    sys.stdout = sys.stderr  # a stray print must not corrupt the stream of batches

    from config import load_config
    from tasks.labor.errors import LaborFileError
    from tasks.labor.read import iter_labor
    from tasks.labor.validate import keyed, validate_labor

    request = sys.stdin.buffer.read()
    if not request:
        return  # the command ended before it had a file to tell
    ask = json.loads(request)
    cfg = load_config(Path(ask["config_dir"]) if ask["config_dir"] else None)
    key = bytes.fromhex(ask["key"])
    try:
        for frame in iter_labor(Path(ask["path"]), cfg, ask["name"], ask["batch_rows"], ask["first_rows"]):
            check = keyed(validate_labor(frame, cfg), key, cfg)
            pickle.dump(("check", check), out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
    except LaborFileError as exc:  # its message names the file and the cell, never a cell's content
        pickle.dump(("refused", str(exc), exc.rule), out)
    else:
        pickle.dump(("end",), out)
    out.flush()


if __name__ == "__main__":
    _child()
