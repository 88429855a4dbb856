"""Read what a month's publication needs from the warehouse tables (the agreed contract), as DataFrames."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, and_, select

from warehouse.months import month_key, parse_month, previous_month
from warehouse.schema import (
    dim_district, dim_form, dim_indicator, dim_origin, dim_region, dim_unit, fct_indicator_value, fct_labor_employment,
    fct_submission, fct_validation_issue,
)

VALUE_COLUMNS = ["unit_code", "form_code", "row_no", "region", "value", "remark", "submission_id", "version"]


def _frame(conn: Connection, query, columns: list[str]) -> pd.DataFrame:
    rows = conn.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def current_values(conn: Connection, month: str) -> pd.DataFrame:
    """Every value of the current accepted report of each unit for `month` (value NaN where not reported)."""
    s, v = fct_submission, fct_indicator_value
    query = (
        select(dim_unit.c.unit_code, dim_form.c.form_code, dim_indicator.c.row_no, dim_region.c.region, v.c.value,
               v.c.remark, s.c.submission_id, s.c.version)
        .select_from(v.join(s, s.c.submission_id == v.c.submission_id)
                     .join(dim_unit, dim_unit.c.unit_key == v.c.unit_key)
                     .join(dim_indicator, dim_indicator.c.indicator_key == v.c.indicator_key)
                     .join(dim_form, dim_form.c.form_key == dim_indicator.c.form_key)
                     .join(dim_region, dim_region.c.region_key == v.c.region_key))
        .where(s.c.month_key == month_key(month), s.c.kind == "report", s.c.status == "accepted",
               s.c.is_current.is_(True))
    )
    df = _frame(conn, query, VALUE_COLUMNS)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    return df


def previous_values(conn: Connection, month: str) -> pd.DataFrame | None:
    """The previous month's current values within the same year; None for January (year-to-date starts afresh)."""
    return None if parse_month(month)[1] == 1 else current_values(conn, previous_month(month))


def report_submissions(conn: Connection, month: str, timezone: str) -> pd.DataFrame:
    """Every report file received for `month`: who, when (local time), status, version, lateness, issue counts."""
    s = fct_submission
    query = (
        select(s.c.submission_id, dim_unit.c.unit_code, s.c.status, s.c.version, s.c.is_current, s.c.is_late,
               s.c.received_at, s.c.n_errors, s.c.n_warnings, s.c.original_name)
        .select_from(s.outerjoin(dim_unit, dim_unit.c.unit_key == s.c.unit_key))
        .where(s.c.month_key == month_key(month), s.c.kind == "report")
        .order_by(s.c.received_at, s.c.submission_id)
    )
    df = _frame(conn, query, ["submission_id", "unit_code", "status", "version", "is_current", "is_late",
                              "received_at", "n_errors", "n_warnings", "original_name"])
    df["received_at"] = [_local(t, timezone) for t in df["received_at"]]
    return df


def _local(t: dt.datetime | None, timezone: str) -> dt.datetime | None:
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def open_warnings(conn: Connection, submission_ids: list[int]) -> pd.DataFrame:
    """Open warnings of the submissions counted this month, in unit and row order."""
    i = fct_validation_issue
    query = (
        select(dim_unit.c.unit_code, i.c.submission_id, i.c.rule, i.c.sheet, i.c.cell, i.c.row_no, i.c.region,
               i.c.value, i.c.message_zh)
        .select_from(i.join(fct_submission, fct_submission.c.submission_id == i.c.submission_id)
                     .outerjoin(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key))
        .where(i.c.submission_id.in_(submission_ids or [-1]), i.c.severity == "warning", i.c.is_open.is_(True))
        .order_by(dim_unit.c.sort_order, i.c.row_no, i.c.issue_id)
    )
    return _frame(conn, query, ["unit_code", "submission_id", "rule", "sheet", "cell", "row_no", "region", "value",
                                "message_zh"])


def labor_counts(conn: Connection, month: str) -> tuple[pd.DataFrame, list[int]]:
    """Persons by origin county and work district from the month's current labor submission, and its id."""
    s, e = fct_submission, fct_labor_employment
    query = (
        select(e.c.submission_id, dim_origin.c.province, dim_origin.c.city, dim_origin.c.county,
               dim_origin.c.is_paired, dim_origin.c.is_central_western, dim_origin.c.report_region,
               dim_district.c.district, e.c.persons)
        .select_from(e.join(s, and_(s.c.submission_id == e.c.submission_id, s.c.kind == "labor"))
                     .join(dim_origin, dim_origin.c.origin_key == e.c.origin_key)
                     .join(dim_district, dim_district.c.district_key == e.c.district_key))
        .where(s.c.month_key == month_key(month), s.c.status == "accepted", s.c.is_current.is_(True))
    )
    df = _frame(conn, query, ["submission_id", "province", "city", "county", "is_paired", "is_central_western",
                              "report_region", "district", "persons"])
    return df.drop(columns="submission_id"), sorted(set(df["submission_id"].tolist()))
