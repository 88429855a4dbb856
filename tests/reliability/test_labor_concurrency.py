"""Two labor loads at once: two files for one month leave exactly one current; the same file twice is one duplicate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from config import Config
from core.crashpoint import PAUSE_ENV, PAUSED
from fupin.demo.labor import generate_labor, write_csv
from tasks.intake.provenance import os_user
from tests.reliability.conftest import ROOT, api_url, submissions
from warehouse.schema import fct_labor_employment, fct_submission

pytestmark = pytest.mark.prefect

MONTH = "2020-09"
FIRST_HOLDS = 15  # seconds
CHILD = (
    "import sys; from flows.ingest_labor import ingest_labor; "
    "r = ingest_labor(sys.argv[1], sys.argv[2]); print('STATUS', r['status'], r['version'])"
)


def _labor_file(cfg: Config, path: Path, seed: int, people: int) -> Path:
    return write_csv(generate_labor(cfg, {"朝阳区": people, "海淀区": 5}, {}, seed=seed), path)


def _labor_process(path: Path, url: str, pause: float, home: Path) -> subprocess.Popen:
    """`ingest_labor(path, MONTH)` in a child that holds its load transaction open `pause` seconds once inside it.

    Each child has its own FUPIN_HOME (one warehouse): the district lists' temporary file names are fixed, so two
    list writers in one folder collide, which is not what is tried here.
    """
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url(),
        "FUPIN_WAREHOUSE_URL": url,
        PAUSE_ENV: f"load:{pause}",
        "FUPIN_HOME": str(home),
    }
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), MONTH],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_together(paths: list[Path], url: str, home: Path) -> list[tuple[int, str, str]]:
    """The second child starts once the first is inside its load, which it holds open long enough (the second's
    start-up takes seconds) that without a lock both would number their version before either commits."""
    first = _labor_process(paths[0], url, FIRST_HOLDS, home / "first")
    seen = ""
    while f"{PAUSED} load" not in seen and first.poll() is None:
        seen = first.stderr.readline()
    procs = [first, _labor_process(paths[1], url, 1, home / "second")]
    out = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    return [(rc, stdout, stderr[-8000:]) for rc, stdout, stderr in out]


def _current_persons(engine: Engine) -> int:
    s, e = fct_submission, fct_labor_employment
    with engine.connect() as conn:
        return conn.execute(
            select(func.sum(e.c.persons))
            .join(s, s.c.submission_id == e.c.submission_id)
            .where(s.c.kind == "labor", s.c.is_current)
        ).scalar_one()


def test_two_labor_files_at_once_leave_one_current(
    cfg, prefect_api, fupin_home: Path, warehouse_url: str, engine: Engine, tmp_path: Path
) -> None:
    first = _labor_file(cfg, tmp_path / "人社局_9月.csv", seed=1, people=12)
    second = _labor_file(cfg, tmp_path / "人社局_9月_更正.csv", seed=2, people=20)
    results = _run_together([first, second], warehouse_url, fupin_home)
    assert [rc for rc, _, _ in results] == [0, 0], [err for _, _, err in results]
    rows = sorted(submissions(engine), key=lambda r: r.received_at)
    assert [(r.original_name, r.status, r.version, r.is_current) for r in rows] == [
        (first.name, "accepted", 1, False),
        (second.name, "accepted", 2, True),
    ]
    assert _current_persons(engine) == 25, "Attachment 1 must count the current file's people once"
    assert {r.source for r in rows} == {f"cli:{os_user()}"}


def test_same_labor_file_twice_at_once_is_one_duplicate(
    cfg, prefect_api, fupin_home: Path, warehouse_url: str, engine: Engine, tmp_path: Path
) -> None:
    src = _labor_file(cfg, tmp_path / "人社局_9月.csv", seed=3, people=9)
    copy = tmp_path / "人社局_9月_再发.csv"
    copy.write_bytes(src.read_bytes())
    results = _run_together([src, copy], warehouse_url, fupin_home)
    assert [rc for rc, _, _ in results] == [0, 0], [err for _, _, err in results]
    assert sorted(out.split("STATUS", 1)[1].split()[0] for _, out, _ in results) == ["accepted", "duplicate"]
    rows = submissions(engine)
    assert [(r.status, r.version, r.is_current) for r in rows] == [("accepted", 1, True)]
    assert _current_persons(engine) == 14
