"""v_indicator_value: every reported figure of the current version, with its monthly increment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, literal, select
from sqlalchemy.sql import ColumnElement, Select

from config import Config
from warehouse.schema import (
    dim_form,
    dim_indicator,
    dim_month,
    dim_region,
    dim_unit,
    fct_indicator_value,
    fct_submission,
)
from warehouse.views import View, register


def current_values(*where: ColumnElement[bool], extra: Sequence[ColumnElement[Any]] = (), lean: bool = False) -> Select:
    """Every current figure with its monthly increment (and `extra` columns), limited by `where` on the base tables.

    lean: only month, form, row, measure unit, value and increment, without the unit and region joins, for views
    that aggregate over units and pick the region by key (fewer joins to plan and run).
    """
    f, s = fct_indicator_value, fct_submission
    prev, prev_s = fct_indicator_value.alias("prev"), fct_submission.alias("prev_s")
    increment = case(
        (dim_indicator.c.kind == literal("rate"), None),
        (dim_month.c.month_of_year == 1, f.c.value),
        else_=f.c.value - prev.c.value,
    )
    unit = [] if lean else [dim_unit.c.unit_code, dim_unit.c.unit_name]
    named = [] if lean else [dim_indicator.c.indicator, dim_indicator.c.category]
    region = [] if lean else [dim_region.c.region]
    source = [] if lean else [f.c.submission_id, s.c.version]
    query = (
        select(
            dim_month.c.month,
            *unit,
            dim_form.c.form_code,
            dim_indicator.c.row_no,
            *named,
            dim_indicator.c.measure_unit,
            *region,
            f.c.value,
            increment.label("value_month"),
            *source,
            *extra,
        )
        .select_from(f)
        .join(s, and_(s.c.submission_id == f.c.submission_id, s.c.is_current))
        .join(dim_month, dim_month.c.month_key == f.c.month_key)
        .join(dim_indicator, dim_indicator.c.indicator_key == f.c.indicator_key)
        .join(dim_form, dim_form.c.form_key == dim_indicator.c.form_key)
    )
    if not lean:
        query = query.join(dim_unit, dim_unit.c.unit_key == f.c.unit_key).join(
            dim_region, dim_region.c.region_key == f.c.region_key
        )
    return (
        query.outerjoin(
            prev_s,
            and_(
                prev_s.c.is_current,
                prev_s.c.unit_key == f.c.unit_key,
                prev_s.c.month_key == f.c.month_key - 1,
                prev_s.c.kind == s.c.kind,
            ),
        )
        .outerjoin(
            prev,
            and_(
                prev.c.submission_id == prev_s.c.submission_id,
                prev.c.indicator_key == f.c.indicator_key,
                prev.c.region_key == f.c.region_key,
            ),
        )
        .where(*where)
    )


def _build(cfg: Config) -> Select:
    return current_values()


register(
    View(
        name="v_indicator_value",
        grain="one row per month × unit × indicator × region, current version only",
        columns={
            "month": "reporting month, 'YYYY-MM' (figures are year-to-date at its end)",
            "unit_code": "reporting unit (填报单位) code",
            "unit_name": "reporting unit name",
            "form_code": "表1, 表2 or 表3",
            "row_no": "序号 within the form",
            "indicator": "指标",
            "category": "大类",
            "measure_unit": "单位 (人次, 人, 个, 期, 亿元, %)",
            "region": "合计 or a region name",
            "value": "year-to-date value; NULL where not reported (not zero)",
            "value_month": "the month's increment (January: its value); NULL for rates, or when the previous month "
            "of the same year has no current value",
            "submission_id": "the file it came from (fct_submission)",
            "version": "that file's version for unit and month",
        },
        build=_build,
    )
)
