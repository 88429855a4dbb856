"""A reported month in the warehouse for the publish tests: two months of reports, gaps, lateness, labor records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from config import Config
from core.month import month_key
from fupin.demo.facts import insert_labor, insert_report, received_on
from fupin.demo.reports import REMARK, report_values
from warehouse.schema import (
    dim_form,
    dim_indicator,
    dim_region,
    dim_unit,
    fct_indicator_value,
    fct_submission,
)

MONTH, PREVIOUS = "2020-09", "2020-08"
MISSING = ("lhasa", "yushu", "grain")  # never report September
LATE = "miyun"  # September after the deadline
REJECTED = "yanqing"  # a rejected try before its accepted file
FORMULA_REMARK = '=HYPERLINK("http://evil.example","点我")'
LABOR = {
    ("内蒙古自治区", "赤峰市", "宁城县", "朝阳区"): 30,
    ("河北省", "承德市", "丰宁县", "海淀区"): 12,
    ("河北省", "保定市", "阜平县", "朝阳区"): 7,
    ("四川省", "成都市", "金堂县", "朝阳区"): 5,
}


def load_month(engine: Engine, cfg: Config) -> None:
    """August from every unit; September from all but MISSING, one late, one rejected first, a formula remark."""
    on_time = received_on(cfg, cfg.deadline(MONTH) - dt.timedelta(days=2))
    with engine.begin() as conn:
        for unit in cfg.units:
            insert_report(conn, cfg, unit, PREVIOUS, received_on(cfg, cfg.deadline(PREVIOUS) - dt.timedelta(days=1)))
        for unit in cfg.units:
            if unit.code in MISSING:
                continue
            values = report_values(cfg, unit, MONTH)
            if unit.code == "hotan":
                values.loc[0, REMARK] = FORMULA_REMARK
            if unit.code == REJECTED:
                insert_report(conn, cfg, unit, MONTH, on_time - dt.timedelta(days=1), status="rejected")
            when = received_on(cfg, cfg.deadline(MONTH) + dt.timedelta(days=3)) if unit.code == LATE else on_time
            insert_report(conn, cfg, unit, MONTH, when, values=values, n_warnings=1 if unit.code == "chaoyang" else 0)
        insert_labor(conn, cfg, MONTH, LABOR, on_time)


def month_warehouse(folder: Path, cfg: Config) -> Engine:
    """A SQLite warehouse file under `folder`, initialised and holding load_month's months."""
    from warehouse.engine import make_engine
    from warehouse.init import init_warehouse

    engine = make_engine(f"sqlite:///{folder / 'warehouse.db'}")
    init_warehouse(engine, cfg, months=["2020-12"])
    load_month(engine, cfg)
    return engine


def unit_values(engine: Engine, form_code: str, row_no: int, region: str, month: str) -> dict[str, float | None]:
    """Each unit's current accepted value of one cell, read with plain SQL, independently of the publish code."""
    v, s = fct_indicator_value, fct_submission
    query = (
        select(dim_unit.c.unit_code, v.c.value)
        .select_from(
            v.join(s, s.c.submission_id == v.c.submission_id)
            .join(dim_unit, dim_unit.c.unit_key == v.c.unit_key)
            .join(dim_indicator, dim_indicator.c.indicator_key == v.c.indicator_key)
            .join(dim_form, dim_form.c.form_key == dim_indicator.c.form_key)
            .join(dim_region, dim_region.c.region_key == v.c.region_key)
        )
        .where(
            s.c.is_current.is_(True),
            s.c.status == "accepted",
            v.c.month_key == month_key(month),
            dim_form.c.form_code == form_code,
            dim_indicator.c.row_no == row_no,
            dim_region.c.region == region,
        )
    )
    with engine.connect() as conn:
        return {code: (None if value is None else float(value)) for code, value in conn.execute(query)}
