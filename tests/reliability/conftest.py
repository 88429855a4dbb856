"""Helpers for attacking the running pipeline: a warehouse under FUPIN_HOME, flow runs, and warehouse snapshots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from config import Config
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import fct_indicator_value, fct_submission

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home_engine(fupin_home: Path, cfg: Config) -> Iterator[Engine]:
    """An initialised SQLite warehouse at FUPIN_HOME's default place, the one flows and the CLI open."""
    eng = make_engine(f"sqlite:///{fupin_home / 'warehouse.db'}")
    init_warehouse(eng, cfg, months=["2020-09"])
    yield eng
    eng.dispose()


def drop(src: Path, inbox: Path, name: str | None = None) -> Path:
    """Copy a file into the inbox under `name`, as a clerk's upload would land."""
    inbox.mkdir(parents=True, exist_ok=True)
    dest = inbox / (name or src.name)
    shutil.copyfile(src, dest)
    return dest


def facts(engine: Engine) -> list[tuple]:
    """Every stored figure with its submission's sha256, sorted: equal snapshots mean an unchanged warehouse."""
    query = select(
        fct_submission.c.sha256,
        fct_submission.c.version,
        fct_submission.c.is_current,
        fct_indicator_value.c.indicator_key,
        fct_indicator_value.c.region_key,
        fct_indicator_value.c.value,
        fct_indicator_value.c.remark,
    ).join(fct_submission, fct_submission.c.submission_id == fct_indicator_value.c.submission_id)
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(query))


def submissions(engine: Engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(fct_submission).order_by(fct_submission.c.submission_id)))


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"select count(*) from {table}")).scalar_one()


def api_url() -> str:
    """The session's Prefect API, so child processes report to the same server instead of starting their own."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def ingest_process(path: Path, env: dict[str, str], **popen) -> subprocess.Popen:
    """`ingest_file(path)` in a child process (real concurrency, killable with SIGKILL)."""
    code = "import sys; from flows.ingest_file import ingest_file; ingest_file(sys.argv[1])"
    child_env = {**os.environ, "PREFECT_API_URL": api_url(), **env}
    return subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )
