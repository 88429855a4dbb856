"""Warnings that keep a report but flag it: a year-to-date figure that fell, an unusual monthly increment."""

from __future__ import annotations

from typing import SupportsInt, cast

import pandas as pd
from sqlalchemy import Connection, Engine, select

from config import Config
from contracts.messages import Issue, make_issue
from contracts.parsed import ParsedReport
from core.month import Month, previous_month
from warehouse.schema import dim_indicator, dim_month, dim_region, dim_unit, fct_indicator_value, fct_submission

MIN_HISTORY = 6
Z_LIMIT = 3.5
HISTORY_COLUMNS = ["month", "row_no", "region", "value"]


def load_history(conn: Connection, unit_code: str, before_month: str) -> pd.DataFrame:
    """The unit's current (accepted, latest-version) figures for every month before `before_month`."""
    q = (
        select(dim_month.c.month, dim_indicator.c.row_no, dim_region.c.region, fct_indicator_value.c.value)
        .join(fct_submission, fct_submission.c.submission_id == fct_indicator_value.c.submission_id)
        .join(dim_month, dim_month.c.month_key == fct_indicator_value.c.month_key)
        .join(dim_indicator, dim_indicator.c.indicator_key == fct_indicator_value.c.indicator_key)
        .join(dim_region, dim_region.c.region_key == fct_indicator_value.c.region_key)
        .join(dim_unit, dim_unit.c.unit_key == fct_indicator_value.c.unit_key)
        .where(fct_submission.c.is_current, dim_unit.c.unit_code == unit_code, dim_month.c.month < before_month)
    )
    return pd.DataFrame(conn.execute(q).all(), columns=HISTORY_COLUMNS)


def increments(frame: pd.DataFrame) -> pd.DataFrame:
    """Monthly increments from year-to-date values: January is its own value; a gap in the year gives none."""
    df = frame.dropna(subset=["value"]).copy()
    df["prev"] = df["month"].map(previous_month)
    prev = df.set_index(["prev", "row_no", "region"]).index
    at = df.set_index(["month", "row_no", "region"])["value"]
    before = pd.Series(at.reindex(prev).to_numpy(), index=df.index)
    january = df["month"].map(lambda m: Month(m).mon == 1)
    df["increment"] = df["value"].where(january, df["value"] - before)
    return df.dropna(subset=["increment"])[["month", "row_no", "region", "increment"]]


def _now(parsed: ParsedReport, cfg: Config) -> pd.DataFrame:
    assert parsed.form_code is not None  # warnings are looked for only in a report that passed its checks
    form = cfg.form(parsed.form_code)
    df = parsed.cells.dropna(subset=["value"]).copy()
    df["kind"] = df["row_no"].map(lambda n: form.row(int(n)).kind)
    df["month"] = parsed.month
    return df[df["kind"] != "rate"]


def _warn(rule: str, parsed: ParsedReport, cfg: Config, rec, **detail) -> Issue:
    assert parsed.form_code is not None  # as in _now
    ind = cfg.form(parsed.form_code).row(int(rec.row_no))
    return make_issue(
        rule,
        parsed.file_name,
        "warning",
        sheet=parsed.sheet,
        cell=rec.cell,
        row_no=ind.row_no,
        indicator=ind.indicator,
        region=rec.region,
        value=rec.raw,
        **detail,
    )


def ytd_decrease(parsed: ParsedReport, cfg: Config, history: pd.DataFrame) -> list[Issue]:
    """A year-to-date value below the unit's previous month of the same year (January starts afresh)."""
    assert parsed.month is not None  # as in _now
    if Month(parsed.month).mon == 1:
        return []
    prev = history[history["month"] == previous_month(parsed.month)].set_index(["row_no", "region"])["value"]
    out = []
    for rec in _now(parsed, cfg).itertuples(index=False):
        before = prev.get((int(cast("SupportsInt", rec.row_no)), rec.region))  # the stubs type row fields as any scalar
        if before is not None and pd.notna(before) and rec.value < before - 1e-9:
            out.append(_warn("ytd_decrease", parsed, cfg, rec, ytd=_fmt(cast(float, rec.value)), previous=_fmt(before)))
    return out


def modified_z(history: pd.Series, x: float) -> float | None:
    """Iglewicz–Hoaglin modified z-score of x against history; None if history is too short or has no spread."""
    if len(history) < MIN_HISTORY:
        return None
    median = history.median()
    mad = (history - median).abs().median()
    return None if mad == 0 else 0.6745 * (x - median) / mad


def outliers(parsed: ParsedReport, cfg: Config, history: pd.DataFrame) -> list[Issue]:
    """This month's increment against the unit's own past increments for the same cell."""
    now = _now(parsed, cfg)
    past = increments(history)
    merged = increments(pd.concat([history, now[HISTORY_COLUMNS]], ignore_index=True))
    this = merged[merged["month"] == parsed.month].set_index(["row_no", "region"])["increment"]
    groups = {k: g["increment"] for k, g in past.groupby(["row_no", "region"])}
    out = []
    for rec in now.itertuples(index=False):
        key = (int(cast("SupportsInt", rec.row_no)), cast(str, rec.region))  # as in ytd_decrease
        if key not in this.index or key not in groups:
            continue
        score = modified_z(groups[key], float(this[key]))
        if score is not None and abs(score) > Z_LIMIT:
            out.append(_warn("outlier", parsed, cfg, rec, increment=_fmt(this[key]), score=f"{score:.1f}"))
    return out


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def report_warnings(engine: Engine, parsed: ParsedReport, cfg: Config) -> list[Issue]:
    """Both warnings for an otherwise valid report, against the unit's current history in the warehouse."""
    assert parsed.unit is not None and parsed.month is not None  # as in _now
    with engine.connect() as conn:
        history = load_history(conn, parsed.unit.code, parsed.month)
    return ytd_decrease(parsed, cfg, history) + outliers(parsed, cfg, history)
