"""Pandera contracts for a unit's report: the figures (long form, one row per cell) and the file's header."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from config import Config, Form, Unit
from config.model import MEASURE_KINDS, MONEY_DECIMALS
from contracts.messages import Issue, make_issue
from contracts.parsed import ParsedReport
from core.month import month_of
from warehouse.schema import VALUE_PRECISION, VALUE_SCALE

_EPS = 1e-6
# The largest magnitude fct_indicator_value.value holds: Numeric(18, 4) keeps 14 digits before the point. SQLite
# would store more; PostgreSQL refuses it, so the contract refuses it on both, as a located error.
WAREHOUSE_DIGITS = VALUE_PRECISION - VALUE_SCALE
WAREHOUSE_LIMIT = 10.0**WAREHOUSE_DIGITS


def _lookup(df: pd.DataFrame, rows: pd.Series) -> pd.Series:
    """The value at (rows[i], df.region[i]) for each i: the same region of another row."""
    at = df.set_index(["row_no", "region"])["value"]
    at = at[~at.index.duplicated()]
    keys = pd.MultiIndex.from_arrays([rows.fillna(0).astype(int), df["region"]])
    return pd.Series(at.reindex(keys).to_numpy(), index=df.index)


def region_sum(df: pd.DataFrame) -> pd.Series:
    """For each cell, the sum of its row's region cells (NaN when none is reported or the form has no regions)."""
    sums = df[~df["is_total"]].groupby("row_no")["value"].sum(min_count=1)
    return df["row_no"].map(sums)


def region_bounds(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    grouped = df[~df["is_total"]].groupby("row_no")["value"]
    return df["row_no"].map(grouped.min()), df["row_no"].map(grouped.max())


def parts_sum(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """For each 其中-row cell: the sum of its parent's parts in that region, and the parent's value."""
    parts = df[df["parent_row"].notna()].groupby(["parent_row", "region"])["value"].sum(min_count=1)
    keys = pd.MultiIndex.from_arrays([df["parent_row"], df["region"]])
    total = pd.Series(parts.reindex(keys).to_numpy(), index=df.index)
    return total, _lookup(df, df["parent_row"])


def parent_present(df: pd.DataFrame) -> pd.Series:
    """For each cell: whether its parent row's cell in the same region is in the sheet at all (blank or not)."""
    keys = pd.MultiIndex.from_arrays([df["parent_row"].fillna(0).astype(int), df["region"]])
    present = pd.MultiIndex.from_arrays([df["row_no"], df["region"]])
    return pd.Series(keys.isin(present), index=df.index)


class ReportValues(pa.DataFrameModel):
    """One row per reported cell: form row (序号) × column (合计 or a region)."""

    row_no: Series[int] = pa.Field(ge=1)
    region: Series[str]
    kind: Series[str] = pa.Field(isin=sorted(set(MEASURE_KINDS.values())))
    value: Series[float] = pa.Field(ge=0, nullable=True)
    is_total: Series[bool]
    parent_row: Series[float] = pa.Field(nullable=True)
    at_most_row: Series[float] = pa.Field(nullable=True)

    class Config:
        unique = ("row_no", "region")

    @pa.dataframe_check
    @classmethod
    def whole_number(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return (df["kind"] != "count") | df["value"].isna() | ((df["value"] - df["value"].round()).abs() < _EPS)

    @pa.dataframe_check
    @classmethod
    def money_decimals(cls, df: pd.DataFrame) -> pd.Series[bool]:
        scaled = df["value"] * 10**MONEY_DECIMALS
        return (df["kind"] != "money") | df["value"].isna() | ((scaled - scaled.round()).abs() < 1e-4)

    @pa.dataframe_check
    @classmethod
    def within_warehouse(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return df["value"].isna() | (df["value"].abs() < WAREHOUSE_LIMIT)

    @pa.dataframe_check
    @classmethod
    def rate_range(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return (df["kind"] != "rate") | df["value"].isna() | (df["value"] <= 100)

    @pa.dataframe_check
    @classmethod
    def total_sum(cls, df: pd.DataFrame) -> pd.Series[bool]:
        expected = region_sum(df)
        skip = ~df["is_total"] | (df["kind"] == "rate") | df["value"].isna() | expected.isna()
        return skip | ((df["value"] - expected).abs() < _EPS)

    @pa.dataframe_check
    @classmethod
    def total_rate(cls, df: pd.DataFrame) -> pd.Series[bool]:
        low, high = region_bounds(df)
        skip = ~df["is_total"] | (df["kind"] != "rate") | df["value"].isna() | low.isna()
        return skip | ((df["value"] >= low - _EPS) & (df["value"] <= high + _EPS))

    @pa.dataframe_check
    @classmethod
    def part_of_parent(cls, df: pd.DataFrame) -> pd.Series[bool]:
        parts, parent = parts_sum(df)
        return df["parent_row"].isna() | df["value"].isna() | parent.isna() | (parts <= parent + _EPS)

    @pa.dataframe_check
    @classmethod
    def parent_blank(cls, df: pd.DataFrame) -> pd.Series[bool]:
        """其中项已填而合计项为空: a part is filled while its whole, present in the sheet, is blank."""
        _, parent = parts_sum(df)
        return df["parent_row"].isna() | df["value"].isna() | parent.notna() | ~parent_present(df)

    @pa.dataframe_check
    @classmethod
    def at_most(cls, df: pd.DataFrame) -> pd.Series[bool]:
        other = _lookup(df, df["at_most_row"])
        return df["at_most_row"].isna() | df["value"].isna() | other.isna() | (df["value"] <= other + _EPS)


class ReportHeader(pa.DataFrameModel):
    """One row: who sent the file, which form it is, and for which month."""

    unit_code: Series[str] = pa.Field(nullable=False)
    form_code: Series[str] = pa.Field(nullable=True)
    unit_form: Series[str] = pa.Field(nullable=True)
    month: Series[str] = pa.Field(nullable=False)
    first_month: Series[str]
    last_month: Series[str]
    folder_unit: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check
    @classmethod
    def folder_mismatch(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return df["folder_unit"].isna() | df["unit_code"].isna() | (df["folder_unit"] == df["unit_code"])

    @pa.dataframe_check
    @classmethod
    def wrong_form(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return df["form_code"].isna() | df["unit_form"].isna() | (df["form_code"] == df["unit_form"])

    @pa.dataframe_check
    @classmethod
    def month_out_of_range(cls, df: pd.DataFrame) -> pd.Series[bool]:
        return df["month"].isna() | ((df["month"] >= df["first_month"]) & (df["month"] <= df["last_month"]))


def values_frame(parsed: ParsedReport, form: Form, cfg: Config) -> pd.DataFrame:
    """The parsed cells joined to their indicator's kind and rule references from config/."""
    df = parsed.cells.copy()
    ind = {r.row_no: r for r in form.rows}
    df["row_no"] = df["row_no"].astype(int)
    df["value"] = df["value"].astype(float)
    df["kind"] = df["row_no"].map(lambda n: ind[n].kind)
    df["is_total"] = df["region"] == cfg.total_column
    df["parent_row"] = df["row_no"].map(lambda n: ind[n].parent).astype(float)
    df["at_most_row"] = df["row_no"].map(lambda n: ind[n].at_most).astype(float)
    return df.reset_index(drop=True)


def _unit_named(cfg: Config, code: str | None) -> Unit | None:
    return next((u for u in cfg.units if u.code == code), None)


def header_frame(parsed: ParsedReport, cfg: Config, received_on: dt.date, folder: str | None = None) -> pd.DataFrame:
    """The header as one row; `folder` is the inbox sub-folder the file was found in (a unit's own, or another)."""
    folder_unit = _unit_named(cfg, folder)
    return pd.DataFrame(
        [
            {
                "unit_code": parsed.unit.code if parsed.unit else None,
                "form_code": parsed.form_code,
                "unit_form": parsed.unit.form_code if parsed.unit else None,
                "month": parsed.month,
                "first_month": cfg.calendar.first_month,
                "last_month": month_of(received_on),
                "folder_unit": folder_unit.code if folder_unit else None,
            }
        ]
    ).astype(object)


def _failures(model: type[pa.DataFrameModel], df: pd.DataFrame) -> list[tuple[str, int]]:
    """(rule, index) of every failure, found lazily in one pass, each once."""
    try:
        model.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        out: dict[tuple[str, int], None] = {}
        for rec in exc.failure_cases.to_dict("records"):
            check = str(rec["check"])
            rule = _FIELD_RULES.get((check, rec["column"]), check)
            out[(rule, int(rec["index"]) if pd.notna(rec["index"]) else 0)] = None
        return list(out)
    return []


_FIELD_RULES = {
    ("greater_than_or_equal_to(0)", "value"): "non_negative",
    ("not_nullable", "unit_code"): "unknown_unit",
    ("not_nullable", "month"): "unknown_month",
}


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if pd.notna(x) else "—"


def _value_issue(rule: str, i: int, df: pd.DataFrame, parsed: ParsedReport, form: Form) -> Issue:
    rec = df.loc[i].to_dict()
    ind = form.row(int(rec["row_no"]))
    detail: dict[str, Any] = {"measure_unit": ind.measure_unit, "digits": WAREHOUSE_DIGITS}
    if rule == "total_sum":
        detail["expected"] = _num(region_sum(df)[i])
    elif rule == "total_rate":
        low, high = region_bounds(df)
        detail.update(low=_num(low[i]), high=_num(high[i]))
    elif rule == "part_of_parent":
        parts, parent = parts_sum(df)
        detail.update(parts=_num(parts[i]), parent=ind.parent, parent_value=_num(parent[i]))
    elif rule == "parent_blank":
        assert ind.parent is not None  # the rule fails only on a 其中 row
        detail.update(parent=ind.parent, parent_indicator=form.row(ind.parent).indicator)
    elif rule == "at_most":
        assert ind.at_most is not None  # the rule fails only on a row that names another
        other = form.row(ind.at_most)
        detail.update(
            other=other.row_no, other_indicator=other.indicator, other_value=_num(_lookup(df, df["at_most_row"])[i])
        )
    return make_issue(
        rule,
        parsed.file_name,
        sheet=parsed.sheet,
        cell=rec["cell"],
        row_no=ind.row_no,
        indicator=ind.indicator,
        region=rec["region"],
        value=rec["raw"],
        **detail,
    )


def check_report(parsed: ParsedReport, cfg: Config, received_on: dt.date, folder: str | None = None) -> list[Issue]:
    """Every error in a parsed report: what parsing met, then the header and figure contracts, all at once;
    `folder` is the inbox sub-folder the file was found in, if any."""
    issues = list(parsed.issues)
    header = header_frame(parsed, cfg, received_on, folder)
    folder_unit = _unit_named(cfg, folder)
    for rule, _ in _failures(ReportHeader, header):
        detail: dict[str, Any] = {
            "unit_text": parsed.unit_text or "",
            "month": parsed.month,
            "first": cfg.calendar.first_month,
            "last": header.loc[0, "last_month"],
            "form": parsed.form_code,
            "unit": parsed.unit.name if parsed.unit else "",
            "unit_form": header.loc[0, "unit_form"],
            "folder": folder_unit.name if folder_unit else "",
        }
        issues.append(make_issue(rule, parsed.file_name, sheet=parsed.sheet, **detail))
    if parsed.form_code and len(parsed.cells):
        form = cfg.form(parsed.form_code)
        df = values_frame(parsed, form, cfg)
        issues += [_value_issue(rule, i, df, parsed, form) for rule, i in _failures(ReportValues, df)]
    return issues
