"""Timeliness by the first accepted version: a unit on time stays on time after a late correction, a unit whose first
accepted file was late stays late; the workbook's 报送情况 and v_completeness agree unit by unit."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, text

from config import Config
from fupin.demo.facts import insert_report, received_on
from fupin.demo.reports import report_values
from tasks.publish.content import gather
from tests.publish_fixture import LATE, MONTH, load_month


def test_on_time_is_decided_by_the_first_accepted_version(engine: Engine, cfg: Config) -> None:
    load_month(engine, cfg)
    corrected, early_fix = cfg.unit("dongcheng"), cfg.unit(LATE)
    after = received_on(cfg, cfg.deadline(MONTH) + dt.timedelta(days=5))
    values = report_values(cfg, corrected, MONTH)
    values.loc[values["row_no"] == 1, [cfg.total_column, "内蒙古"]] += 1
    with engine.begin() as conn:
        insert_report(conn, cfg, corrected, MONTH, after, values=values)  # a late correction of an on-time report
        insert_report(conn, cfg, early_fix, MONTH, after + dt.timedelta(days=1))  # the late unit, corrected again
    status = gather(engine, cfg, MONTH).status.set_index("unit_code")
    with engine.connect() as conn:
        view = pd.DataFrame(
            conn.execute(
                text("SELECT unit_code, on_time, current_version FROM v_completeness WHERE month = :m"), {"m": MONTH}
            )
            .mappings()
            .all()
        ).set_index("unit_code")
    assert bool(status.loc[corrected.code, "on_time"]) and bool(status.loc[corrected.code, "late_version"])
    assert int(status.loc[corrected.code, "version"]) == 2
    assert not bool(status.loc[early_fix.code, "on_time"])
    for code in status.index:
        assert bool(view.loc[code, "on_time"]) == bool(status.loc[code, "on_time"]), code
