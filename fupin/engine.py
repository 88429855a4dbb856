"""The flow-run command of every deployment (`python -m fupin.engine`): Prefect's engine, started warm.

The worker starts this for each flow run, as it would start `python -m prefect.engine`. Where `fupin serve` keeps a
warm process (fupin/warm.py, its socket named by FUPIN_WARM_SOCKET), the run is a fork of that process, which has
Prefect, the data stack and the flows imported already: it starts in a few hundredths of a second instead of three.
This process stays the worker's handle on the run: it passes on its standard streams, forwards the signals it gets
and exits with the run's code. Without a warm process (a worker on another host), it becomes Prefect's own engine.
Only the standard library is imported here: whatever this imports, every run waits for.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import BinaryIO

SOCKET_ENV = "FUPIN_WARM_SOCKET"
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
KILLED = 137  # the run's process vanished without an exit code (killed): a crash for the worker, as with SIGKILL


@contextlib.contextmanager
def socket_folder(path: str) -> Iterator[str]:
    """Work in the folder of the socket at `path` and name it relatively: a socket path may not exceed 107 bytes,
    a FUPIN_HOME may. The caller's folder is restored after."""
    folder, name = os.path.split(path)
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(folder or ".")
        yield name
    finally:
        os.fchdir(here)
        os.close(here)


def connect(path: str) -> socket.socket | None:
    """A connection to the warm process at `path`, or None when there is none (no file, nobody listening)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with socket_folder(path) as name:
            sock.connect(name)
    except OSError:
        sock.close()
        return None
    return sock


def request(sock: socket.socket) -> BinaryIO:
    """Ask for a forked run with this process's environment, folder and streams; the run's answers (its pid, then
    its exit code, one line each, both written by the run itself so that they arrive in that order)."""
    body = json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(sock, [len(body).to_bytes(8, "big") + body], [0, 1, 2])
    return sock.makefile("rb")


def _number(line: bytes) -> int | None:
    line = line.strip()
    return int(line) if line.lstrip(b"-").isdigit() else None


def follow(answers: BinaryIO, pid: int) -> int:
    """Forward signals to the run until it reports its exit code (or its connection drops: killed)."""

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    code = _number(answers.readline())
    return KILLED if code is None else code


def main() -> None:
    """Run the engine warm when a warm process answers, else exec Prefect's own engine in this process."""
    path = os.environ.get(SOCKET_ENV)
    sock = connect(path) if path else None
    answers = request(sock) if sock is not None else None
    pid = _number(answers.readline()) if answers is not None else None
    if answers is None or not pid:
        os.execv(sys.executable, [sys.executable, "-m", "prefect.engine", *sys.argv[1:]])
    sys.exit(follow(answers, pid))


if __name__ == "__main__":
    main()
