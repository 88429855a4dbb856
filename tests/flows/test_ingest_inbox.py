"""The sweep ingests every new inbox file in one process, once per distinct bytes, and moves each file out of the
inbox: done/ when accepted, rejected/ otherwise (a unit's own folder kept)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Config
from flows.ingest_inbox import ingest_inbox
from fupin.demo.report_fixtures import catalogue, write_fixture
from fupin.demo.reports import write_filled_report
from tasks.intake.scan import new_inbox_files
from tasks.report.workbook import SUFFIXES
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import fct_submission


def test_inbox_ingests_each_new_file_once_and_moves_it(
    fupin_home: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    engine = make_engine(f"sqlite:///{fupin_home / 'warehouse.db'}")
    init_warehouse(engine, cfg, months=["2020-12"])
    inbox = fupin_home / "inbox"
    good = write_filled_report(cfg, cfg.unit("yushu"), "2020-09", inbox / "yushu" / "2020-09_玉树.xlsx")
    bad = write_fixture(cfg, next(f for f in catalogue(cfg) if f.name == "rate_over_100"), inbox)
    (inbox / "readme.txt").write_text("not a workbook")
    kept = shutil.copy(good, fupin_home / "kept.xlsx")

    first = ingest_inbox.fn()
    assert sorted(f["status"] for f in first["files"]) == ["accepted", "rejected"]
    assert (inbox / "done" / "yushu" / good.name).is_file() and not good.exists()
    assert (inbox / "rejected" / bad.name).is_file() and not bad.exists()
    assert (inbox / "readme.txt").exists(), "what is not a workbook is left alone"

    shutil.copy(kept, inbox / "same-bytes-again.xlsx")
    again = ingest_inbox.fn()
    assert again["files"] == [] and (inbox / "done" / "same-bytes-again.xlsx").is_file()
    assert new_inbox_files(inbox, fupin_home / "archive", engine, SUFFIXES).files == []
    with engine.connect() as conn:
        assert sorted(conn.execute(select(fct_submission.c.status)).scalars()) == ["accepted", "rejected"]
    engine.dispose()
