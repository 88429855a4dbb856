"""The test harness itself: under CI=true an unreachable PostgreSQL fails the run instead of skipping it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_pg_test(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_needs_pg(pg_url):\n    assert pg_url\n", encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CI": ci,
        "FUPIN_TEST_PG_URL": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--rootdir",
            str(ROOT),
            "--confcutdir",
            str(ROOT / "tests"),
            "-c",
            str(ROOT / "pyproject.toml"),
            str(probe),
        ],
        cwd=ROOT / "tests",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unreachable_postgres_fails_under_ci(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n", encoding="utf-8")
    run = _run_pg_test(tmp_path, "true")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PostgreSQL is required under CI=true" in run.stdout


def test_unreachable_postgres_skips_on_a_laptop(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n", encoding="utf-8")
    run = _run_pg_test(tmp_path, "")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
