"""Read what a month's publication needs through the documented views (tables where no view says it), as DataFrames."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, column, select, table

from core.clock import office_wall
from core.month import month_key
from warehouse.schema import dim_indicator, dim_unit, fct_indicator_value, fct_submission

VALUE_COLUMNS = [
    "unit_code",
    "form_code",
    "row_no",
    "region",
    "value",
    "value_month",
    "remark",
    "submission_id",
    "version",
]
_VIEW_COLUMNS = [
    "month",
    "unit_code",
    "form_code",
    "row_no",
    "region",
    "value",
    "value_month",
    "submission_id",
    "version",
]
v_indicator_value = table("v_indicator_value", *(column(c) for c in _VIEW_COLUMNS))
v_labor_by_district = table("v_labor_by_district", column("month"), column("district"), column("persons"))
v_labor_by_origin = table("v_labor_by_origin", *(column(c) for c in ("month", "province", "city", "county", "persons")))


def _frame(conn: Connection, query, columns: list[str]) -> pd.DataFrame:
    rows = conn.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def current_values(conn: Connection, month: str) -> pd.DataFrame:
    """The month's current values from v_indicator_value (NaN where not reported), with 表3 remarks."""
    v = v_indicator_value
    df = _frame(conn, select(*(v.c[c] for c in _VIEW_COLUMNS[1:])).where(v.c.month == month), _VIEW_COLUMNS[1:])
    for c in ("value", "value_month"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    remarks = (
        select(fct_indicator_value.c.submission_id, dim_indicator.c.row_no, fct_indicator_value.c.remark)
        .join(dim_indicator, dim_indicator.c.indicator_key == fct_indicator_value.c.indicator_key)
        .where(
            fct_indicator_value.c.submission_id.in_(df["submission_id"].astype(int).unique().tolist() or [-1]),
            fct_indicator_value.c.remark.is_not(None),
        )
    )
    notes = {(sid, row): text for sid, row, text in conn.execute(remarks)}
    df["remark"] = [notes.get((sid, row)) for sid, row in zip(df["submission_id"], df["row_no"], strict=False)]
    return df[VALUE_COLUMNS]


def report_submissions(conn: Connection, month: str, timezone: str) -> pd.DataFrame:
    """Every report file received for `month`: who, when (local time), status, version, lateness, issue counts."""
    s = fct_submission
    query = (
        select(
            s.c.submission_id,
            dim_unit.c.unit_code,
            s.c.status,
            s.c.version,
            s.c.is_current,
            s.c.is_late,
            s.c.received_at,
            s.c.n_errors,
            s.c.n_warnings,
            s.c.original_name,
        )
        .select_from(s.outerjoin(dim_unit, dim_unit.c.unit_key == s.c.unit_key))
        .where(s.c.month_key == month_key(month), s.c.kind == "report")
        .order_by(s.c.received_at, s.c.submission_id)
    )
    df = _frame(
        conn,
        query,
        [
            "submission_id",
            "unit_code",
            "status",
            "version",
            "is_current",
            "is_late",
            "received_at",
            "n_errors",
            "n_warnings",
            "original_name",
        ],
    )
    df["received_at"] = [_local(t, timezone) for t in df["received_at"]]
    return df


def _local(t: dt.datetime | None, timezone: str) -> dt.datetime | None:
    if t is None:
        return None
    return office_wall(t, timezone)


def labor_counts(conn: Connection, month: str) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    """Attachment 1's two aggregates from the labor views (by district; by origin county) and the file(s) used."""
    d, o = v_labor_by_district, v_labor_by_origin
    by_district = _frame(conn, select(d.c.district, d.c.persons).where(d.c.month == month), ["district", "persons"])
    by_origin = _frame(
        conn,
        select(o.c.province, o.c.city, o.c.county, o.c.persons).where(o.c.month == month),
        ["province", "city", "county", "persons"],
    )
    s = fct_submission
    ids = (
        conn.execute(
            select(s.c.submission_id).where(
                s.c.kind == "labor", s.c.month_key == month_key(month), s.c.is_current.is_(True)
            )
        )
        .scalars()
        .all()
    )
    return by_district, by_origin, sorted(ids) if len(by_origin) else []
