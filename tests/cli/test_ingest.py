"""`fupin ingest`, run as the real command against the session's Prefect API and a real SQLite warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config
from fupin.demo.report_fixtures import catalogue, write_fixture
from fupin.demo.reports import write_filled_report
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

pytestmark = pytest.mark.prefect


def fupin(*args: str) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "fupin.cli", "ingest", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )


def test_inbox_then_paths(prefect_api, fupin_home: Path, cfg: Config) -> None:
    engine = make_engine(f"sqlite:///{fupin_home / 'warehouse.db'}")
    init_warehouse(engine, cfg, months=["2020-12"])
    engine.dispose()
    inbox = fupin_home / "inbox"
    unit = cfg.unit("chaoyang")
    first = write_filled_report(cfg, unit, "2020-09", inbox / "a_v1.xlsx")
    write_filled_report(cfg, unit, "2020-09", inbox / "b_v2.xlsx", seed=1)
    bad = write_fixture(cfg, next(f for f in catalogue(cfg) if f.name == "negative"), inbox)
    run = fupin()
    assert run.returncode == 1, run.stderr[-3000:]
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in run.stdout.splitlines()
        if line.startswith("│")
    }
    assert rows == {"a_v1.xlsx": "superseded", "b_v2.xlsx": "accepted", bad.name: "rejected"}
    assert "error: 1 file(s) rejected" in run.stderr
    again = fupin(str(inbox / "done" / first.name))
    assert again.returncode == 0 and "duplicate" in again.stdout


def test_usage_and_setup_errors_are_one_line(fupin_home: Path, cfg: Config) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fupin.cli", "ingest", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    no_warehouse = run()
    assert no_warehouse.returncode == 3 and "run `fupin init` first" in no_warehouse.stderr
    assert "Traceback" not in no_warehouse.stderr
    engine = make_engine(f"sqlite:///{fupin_home / 'warehouse.db'}")
    init_warehouse(engine, cfg, months=["2020-12"])
    engine.dispose()
    missing = run(str(fupin_home / "nope.xlsx"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr and "Traceback" not in missing.stderr
