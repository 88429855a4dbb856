"""Versions follow the order files were received, even when an earlier file is loaded after a later one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from config import Config
from fupin.demo.reports import write_filled_report
from tasks.intake.archive import sha256_of
from tasks.report.load import Receipt, load_report
from tasks.report.parse import parse_report
from warehouse.schema import fct_submission

T0 = dt.datetime(2020, 10, 5, 9, 0, tzinfo=dt.UTC)


def _load(engine: Engine, cfg: Config, path: Path, hours: int):
    data = path.read_bytes()
    receipt = Receipt(sha256_of(data), path.name, "archive/x", T0 + dt.timedelta(hours=hours))
    return load_report(engine, parse_report(data, path.name, cfg), cfg, receipt, [], [])


def test_late_loaded_earlier_file_slots_in_and_latest_received_stays_current(
    engine: Engine, cfg: Config, tmp_path: Path
) -> None:
    unit = cfg.unit("miyun")
    a, b, c = (
        write_filled_report(cfg, unit, "2020-09", tmp_path / f"{n}.xlsx", seed=s)
        for n, s in (("a", 1), ("b", 2), ("c", 3))
    )
    rb = _load(engine, cfg, b, hours=2)
    rc = _load(engine, cfg, c, hours=3)
    ra = _load(engine, cfg, a, hours=1)  # received first, loaded last
    assert (rb.version, rc.version, rc.superseded) == (1, 2, rb.submission_id)
    assert (ra.status, ra.version, ra.superseded) == ("accepted", 1, None)
    with engine.connect() as conn:
        rows = conn.execute(
            select(fct_submission.c.original_name, fct_submission.c.version, fct_submission.c.is_current).order_by(
                fct_submission.c.version
            )
        ).all()
    assert [tuple(r) for r in rows] == [("a.xlsx", 1, False), ("b.xlsx", 2, False), ("c.xlsx", 3, True)]
