"""The warehouse unreachable (a closed port): a clear error, nothing lost, and the file succeeds once it is back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fupin.demo import bad_files
from tasks.intake.archive import sha256_of
from tests.reliability.conftest import ROOT, drop, submissions

pytestmark = pytest.mark.prefect


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://fupin:not-the-password@127.0.0.1:{port}/fupin"


def test_cli_says_the_database_is_unreachable_without_a_traceback(cfg, fupin_home: Path, tmp_path: Path) -> None:
    path = drop(bad_files.good_report(cfg, tmp_path / "r.xlsx"), fupin_home / "inbox")
    env = {**os.environ, "FUPIN_WAREHOUSE_URL": _closed_port_url()}
    proc = subprocess.run(
        [sys.executable, "-m", "fupin.cli", "ingest", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "FUPIN_WAREHOUSE_URL" in proc.stderr and "not-the-password" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) <= 3
    assert path.exists()


def test_flow_fails_clearly_keeps_the_file_and_succeeds_when_back(
    cfg, prefect_api, fupin_home: Path, home_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest_file import ingest_file

    path = drop(bad_files.good_report(cfg, tmp_path / "r.xlsx"), fupin_home / "inbox")
    sha = sha256_of(path.read_bytes())
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", _closed_port_url())
    started = time.monotonic()
    state = ingest_file(str(path), return_state=True)
    assert state.is_failed() and "refused" in state.message and "not-the-password" not in state.message
    assert time.monotonic() - started < 120
    assert (fupin_home / "archive" / sha[:2] / f"{sha}.xlsx").read_bytes() == path.read_bytes()
    assert submissions(home_engine) == []

    monkeypatch.delenv("FUPIN_WAREHOUSE_URL")
    assert ingest_file(str(path))["status"] == "accepted"
    assert [r.sha256 for r in submissions(home_engine)] == [sha]
