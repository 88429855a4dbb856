"""ingest_inbox without a deployment runs ingest_file in-process for each new file, never twice for the same bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Config
from flows.ingest_inbox import deployment_available, ingest_inbox
from fupin.demo.report_fixtures import catalogue, write_fixture
from fupin.demo.reports import write_filled_report
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import fct_submission

pytestmark = pytest.mark.prefect


def test_inbox_runs_each_new_file_once(prefect_api, fupin_home: Path, cfg: Config) -> None:
    engine = make_engine(f"sqlite:///{fupin_home / 'warehouse.db'}")
    init_warehouse(engine, cfg, months=["2020-12"])
    inbox = fupin_home / "inbox"
    good = write_filled_report(cfg, cfg.unit("yushu"), "2020-09", inbox / "2020-09_玉树.xlsx")
    write_fixture(cfg, next(f for f in catalogue(cfg) if f.name == "rate_over_100"), inbox)
    (inbox / "readme.txt").write_text("not a workbook")
    assert not deployment_available()
    assert sorted(ingest_inbox()) == ["Completed", "Failed"]
    shutil.copy(good, inbox / "same-bytes-again.xlsx")
    assert ingest_inbox() == []
    with engine.connect() as conn:
        assert sorted(conn.execute(select(fct_submission.c.status)).scalars()) == ["accepted", "rejected"]
    engine.dispose()
