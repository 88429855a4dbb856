"""`cli`: the real entry point fupin.cli:main, called in this process (cheaper than a child process)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

from fupin.cli import main


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., int]]:
    """`cli("init")` runs `fupin init` and returns its exit code; read its output with capsys."""
    umask = os.umask(0o077)  # main() makes the process owner-only; the worker's other tests keep their umask
    os.umask(umask)

    def call(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["fupin", *args])
        with pytest.raises(SystemExit) as done:
            main()
        return int(done.value.code or 0)

    yield call
    os.umask(umask)
