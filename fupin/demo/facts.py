"""Put report and labor submissions straight into the fact tables (the agreed contract), for publish tests and demos."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
from sqlalchemy import Connection, insert, select

from config import Config, Unit
from core.clock import office_time
from core.month import month_key
from fupin.demo.reports import REMARK, report_values
from warehouse.schema import (
    dim_district,
    dim_form,
    dim_indicator,
    dim_origin,
    dim_region,
    dim_unit,
    fct_indicator_value,
    fct_labor_employment,
    fct_submission,
)
from warehouse.versions import Version, lock_unit, next_version


def received_on(cfg: Config, day: dt.date, hour: int = 10) -> dt.datetime:
    """A UTC timestamp for `day` at `hour` o'clock office time."""
    return office_time(day, hour, cfg.calendar.timezone)


def _key(conn: Connection, column, where) -> int:
    return conn.execute(select(column).where(where)).scalar_one()


def _numbered(conn: Connection, kind: str, unit_key: int, month_key: int, received_at: dt.datetime) -> Version:
    """The version the loaders would give this accepted file (warehouse/versions.py)."""
    lock_unit(conn, unit_key)
    return next_version(conn, kind, unit_key, month_key, received_at)


def insert_report(
    conn: Connection,
    cfg: Config,
    unit: Unit,
    month: str,
    received_at: dt.datetime,
    values: pd.DataFrame | None = None,
    status: str = "accepted",
    n_warnings: int = 0,
) -> int:
    """Record one report submission (and its facts when accepted), versioned like the ingest loader; its id."""
    values = report_values(cfg, unit, month) if values is None else values
    unit_key = _key(conn, dim_unit.c.unit_key, dim_unit.c.unit_code == unit.code)
    form_key = _key(conn, dim_form.c.form_key, dim_form.c.form_code == unit.form_code)
    mk = month_key(month)
    s = fct_submission
    numbered = _numbered(conn, "report", unit_key, mk, received_at) if status == "accepted" else Version(0, False, None)
    sha = hashlib.sha256(f"{unit.code}|{month}|{received_at.isoformat()}|{values.to_json()}".encode()).hexdigest()
    sid = conn.execute(
        insert(s)
        .values(
            kind="report",
            sha256=sha,
            original_name=f"{month}_{unit.form_code}_{unit.code}.xlsx",
            archive_path=f"archive/{sha[:2]}/{sha}.xlsx",
            received_at=received_at,
            unit_key=unit_key,
            form_key=form_key,
            month_key=mk,
            status=status,
            version=numbered.number or None,
            is_current=numbered.is_current,
            is_late=cfg.is_late(month, received_at),
            n_errors=0 if status == "accepted" else 1,
            n_warnings=n_warnings,
            n_rows=len(values),
        )
        .returning(s.c.submission_id)
    ).scalar_one()
    if status == "accepted":
        _insert_values(conn, cfg, unit, month, sid, unit_key, form_key, values)
    return sid


def _insert_values(
    conn: Connection, cfg: Config, unit: Unit, month: str, sid: int, unit_key: int, form_key: int, values: pd.DataFrame
) -> None:
    form = cfg.form(unit.form_code)
    indicators = dict(
        conn.execute(
            select(dim_indicator.c.row_no, dim_indicator.c.indicator_key).where(dim_indicator.c.form_key == form_key)
        ).all()
    )
    regions = dict(conn.execute(select(dim_region.c.region, dim_region.c.region_key)).all())
    rows = []
    for rec in values.to_dict("records"):
        for col in cfg.columns(form):
            v = rec.get(col)
            rows.append(
                {
                    "submission_id": sid,
                    "indicator_key": indicators[int(rec["row_no"])],
                    "region_key": regions[col],
                    "unit_key": unit_key,
                    "month_key": month_key(month),
                    "value": None if pd.isna(v) else float(v),
                    "remark": rec.get(REMARK) if col == cfg.total_column else None,
                }
            )
    conn.execute(insert(fct_indicator_value), rows)


def insert_labor(
    conn: Connection, cfg: Config, month: str, counts: dict[tuple[str, str, str, str], int], received_at: dt.datetime
) -> int:
    """Record an accepted labor submission: persons by (province, city, county, district); its id."""
    s = fct_submission
    sha = hashlib.sha256(f"labor|{month}|{received_at.isoformat()}|{sorted(counts.items())}".encode()).hexdigest()
    hr = _key(conn, dim_unit.c.unit_key, dim_unit.c.unit_code == cfg.labor.sender_unit)
    numbered = _numbered(conn, "labor", hr, month_key(month), received_at)
    sid = conn.execute(
        insert(s)
        .values(
            kind="labor",
            sha256=sha,
            original_name=f"labor_{month}.xlsx",
            archive_path=f"archive/{sha[:2]}/{sha}.xlsx",
            received_at=received_at,
            unit_key=hr,
            month_key=month_key(month),
            status="accepted",
            version=numbered.number,
            is_current=numbered.is_current,
            is_late=False,
            n_rows=sum(counts.values()),
        )
        .returning(s.c.submission_id)
    ).scalar_one()
    districts = dict(conn.execute(select(dim_district.c.district, dim_district.c.district_key)).all())
    rows = []
    for (province, city, county, district), persons in counts.items():
        where = (dim_origin.c.province == province) & (dim_origin.c.city == city) & (dim_origin.c.county == county)
        key = conn.execute(select(dim_origin.c.origin_key).where(where)).scalar()
        if key is None:
            key = conn.execute(
                insert(dim_origin)
                .values(
                    province=province,
                    city=city,
                    county=county,
                    is_paired=False,
                    is_central_western=province in cfg.central_western_provinces,
                    report_region=cfg.province_region(province),
                )
                .returning(dim_origin.c.origin_key)
            ).scalar_one()
        rows.append(
            {
                "submission_id": sid,
                "origin_key": key,
                "district_key": districts[district],
                "month_key": month_key(month),
                "persons": persons,
            }
        )
    conn.execute(insert(fct_labor_employment), rows)
    return sid
