"""The close's month table: one row per expected unit, and an open or crashed file run overrides what is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from config import Config
from fupin.demo.reports import write_filled_report
from tasks.report.load import Receipt, load_report
from tasks.report.parse import parse_report
from tasks.runs.close import CRASHED, OPEN_STATES, PENDING, close_rows
from tasks.runs.wait import FileRun

MONTH = "2020-09"


def _load(engine: Engine, cfg: Config, tmp_path, code: str, errors=()) -> int:
    path = write_filled_report(cfg, cfg.unit(code), MONTH, tmp_path / f"{code}.xlsx")
    data = path.read_bytes()
    import hashlib

    receipt = Receipt(hashlib.sha256(data).hexdigest(), path.name, "archive/x", dt.datetime(2020, 10, 3, tzinfo=dt.UTC))
    return load_report(engine, parse_report(data, path.name, cfg), cfg, receipt, list(errors), []).submission_id


def test_each_unit_has_its_state_and_open_runs_win(engine: Engine, cfg: Config, tmp_path) -> None:
    _load(engine, cfg, tmp_path, "dongcheng")
    crashed = FileRun("r1", "ingest-file 西城区 2020-09 x.xlsx", "CRASHED", "Crashed", "xicheng", MONTH, 1)
    unparsed = FileRun("r2", "ingest-file y.xlsx", "RUNNING", "Running", None, None, 1)

    rows = {r.unit_code or r.unit_name: r for r in close_rows(engine, cfg, MONTH, [crashed, unparsed])}

    assert len(rows) == len(cfg.units) + 1
    assert (rows["dongcheng"].state, rows["dongcheng"].version, rows["dongcheng"].late) == (
        "已接收 accepted v1",
        1,
        False,
    )
    assert rows["dongcheng"].arrival == "2020-10-03"
    assert (rows["xicheng"].state, rows["xicheng"].run_id) == (CRASHED, "r1")
    assert rows["ingest-file y.xlsx"].state == PENDING, "a run not parsed yet still holds the month open"
    assert rows["chaoyang"].state == "未报 missing" and rows["chaoyang"].state not in OPEN_STATES
    table = rows["xicheng"].as_dict("http://ui:4200/")
    assert table["运行 run"] == "http://ui:4200/runs/flow-run/r1" and table["状态 state"] == CRASHED
