"""Analyst views: value history, submissions, completeness and city-wide concepts, built from config/ and schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, and_, case, cast, column, false, func, literal, select, table, true, union_all
from sqlalchemy.sql import ColumnElement, Select

from config import Config
from warehouse.schema import dim_district, dim_form, dim_indicator, dim_month, dim_origin, dim_region, dim_unit
from warehouse.schema import fct_indicator_value as fv
from warehouse.schema import fct_labor_employment as emp
from warehouse.schema import fct_labor_retention as ret
from warehouse.schema import fct_submission as sub
from warehouse.views import View, register
from warehouse.views.core import current_values

REPORT = "report"
LABOR = "labor"
ACCEPTED = "accepted"


def _history(cfg: Config) -> Select:
    return (
        select(
            dim_month.c.month,
            dim_unit.c.unit_code,
            dim_unit.c.unit_name,
            dim_form.c.form_code,
            dim_indicator.c.row_no,
            dim_indicator.c.indicator,
            dim_indicator.c.category,
            dim_indicator.c.measure_unit,
            dim_indicator.c.concept,
            dim_region.c.region,
            fv.c.value,
            fv.c.remark,
            sub.c.submission_id,
            sub.c.version,
            sub.c.is_current,
            sub.c.status,
            sub.c.original_name,
            sub.c.received_at,
            sub.c.is_late,
        )
        .select_from(fv)
        .join(sub, sub.c.submission_id == fv.c.submission_id)
        .join(dim_month, dim_month.c.month_key == fv.c.month_key)
        .join(dim_unit, dim_unit.c.unit_key == fv.c.unit_key)
        .join(dim_indicator, dim_indicator.c.indicator_key == fv.c.indicator_key)
        .join(dim_form, dim_form.c.form_key == dim_indicator.c.form_key)
        .join(dim_region, dim_region.c.region_key == fv.c.region_key)
    )


INDICATOR_VALUE = table(
    "v_indicator_value",
    *(column(n) for n in ("month", "form_code", "row_no", "region", "value", "value_month")),
)


def _submission(cfg: Config) -> Select:
    return (
        select(
            sub.c.submission_id,
            sub.c.kind,
            dim_month.c.month,
            dim_unit.c.unit_code,
            dim_unit.c.unit_name,
            dim_form.c.form_code,
            sub.c.original_name,
            sub.c.received_at,
            sub.c.sent_on,
            dim_month.c.deadline,
            sub.c.is_late,
            case((sub.c.is_late.is_(None), None), (sub.c.is_late == true(), false()), else_=true()).label("on_time"),
            sub.c.status,
            sub.c.version,
            sub.c.is_current,
            sub.c.n_errors,
            sub.c.n_warnings,
            sub.c.n_rows,
            sub.c.message,
        )
        .select_from(sub)
        .outerjoin(dim_month, dim_month.c.month_key == sub.c.month_key)
        .outerjoin(dim_unit, dim_unit.c.unit_key == sub.c.unit_key)
        .outerjoin(dim_form, dim_form.c.form_key == sub.c.form_key)
    )


def _rate(flag: ColumnElement[int], partition: Sequence[ColumnElement[Any]]) -> ColumnElement[float]:
    return literal(100.0) * func.sum(flag).over(partition_by=partition) / func.count().over(partition_by=partition)


def _completeness(cfg: Config) -> Select:
    current, first = sub.alias("cur"), sub.alias("v1")
    reported_months = select(sub.c.month_key).where(sub.c.kind == REPORT).distinct().subquery("rm")
    reported = case((current.c.submission_id.is_not(None), 1), else_=0)
    on_time = case((and_(first.c.submission_id.is_not(None), first.c.is_late == false()), 1), else_=0)
    month_part, form_part = [dim_month.c.month_key], [dim_month.c.month_key, dim_form.c.form_code]
    return (
        select(
            dim_month.c.month,
            dim_month.c.year,
            dim_month.c.quarter,
            dim_unit.c.unit_code,
            dim_unit.c.unit_name,
            dim_unit.c.unit_kind,
            dim_form.c.form_code,
            dim_month.c.deadline,
            case((reported == 1, true()), else_=false()).label("reported"),
            case((on_time == 1, true()), else_=false()).label("on_time"),
            current.c.version.label("current_version"),
            current.c.submission_id,
            func.count().over(partition_by=month_part).label("n_expected"),
            func.sum(reported).over(partition_by=month_part).label("n_reported"),
            func.sum(on_time).over(partition_by=month_part).label("n_on_time"),
            _rate(reported, month_part).label("reporting_rate"),
            _rate(on_time, month_part).label("on_time_rate"),
            _rate(reported, form_part).label("form_reporting_rate"),
        )
        .select_from(dim_month)
        .join(reported_months, reported_months.c.month_key == dim_month.c.month_key)
        .join(dim_unit, dim_unit.c.is_active == true())
        .join(dim_form, dim_form.c.form_key == dim_unit.c.form_key)
        .outerjoin(
            current,
            and_(
                current.c.unit_key == dim_unit.c.unit_key,
                current.c.month_key == dim_month.c.month_key,
                current.c.kind == REPORT,
                current.c.status == ACCEPTED,
                current.c.is_current == true(),
            ),
        )
        .outerjoin(
            first,
            and_(
                first.c.unit_key == dim_unit.c.unit_key,
                first.c.month_key == dim_month.c.month_key,
                first.c.kind == REPORT,
                first.c.status == ACCEPTED,
                first.c.version == 1,
            ),
        )
    )


def shared_concepts(cfg: Config) -> dict[str, str]:
    """Concepts declared in config/ for rows of more than one form, with their (single) measure unit."""
    out: dict[str, str] = {}
    for concept, rows in cfg.concepts.items():
        if len({r.form_code for r in rows}) < 2:
            continue
        units = {r.measure_unit for r in rows}
        if len(units) != 1:
            raise ValueError(f"concept {concept} mixes measure units {sorted(units)} in config/forms.yaml")
        out[concept] = units.pop()
    return out


def _concept_month(cfg: Config) -> Select:
    concepts = sorted(shared_concepts(cfg))

    def rows(name: str):  # built twice so that a filter on month reaches both halves of the union
        # From the base tables, not v_indicator_value: the few concept rows are found through the indicator index
        # before anything is joined (3 indicators × units × months, not every figure).
        # Keys picked by subqueries, so the figures are found through the indicator index before anything is
        # joined: the city-wide column's key is one value for the planner (never a join to every region).
        total = select(dim_region.c.region_key).where(dim_region.c.region == cfg.total_column).scalar_subquery()
        keys = select(dim_indicator.c.indicator_key).where(dim_indicator.c.concept.in_(concepts))
        return current_values(
            fv.c.indicator_key.in_(keys), fv.c.region_key == total, extra=[dim_indicator.c.concept], lean=True
        ).subquery(name)

    # An increment summed over units is only given when every unit that reported a value has one: no guesses.
    def month_sum(base):
        return case((func.count(base.c.value_month) == func.count(base.c.value), func.sum(base.c.value_month)))

    a, b = rows("by_form"), rows("city")
    by_form = select(
        a.c.month,
        a.c.concept,
        a.c.form_code,
        func.min(a.c.row_no).label("row_no"),
        func.min(a.c.measure_unit).label("measure_unit"),
        func.sum(a.c.value).label("value"),
        month_sum(a).label("value_month"),
        func.count(a.c.value).label("n_units"),
    ).group_by(a.c.month, a.c.concept, a.c.form_code)
    total = select(
        b.c.month,
        b.c.concept,
        literal(cfg.total_column).label("form_code"),
        cast(literal(None), Integer).label("row_no"),
        func.min(b.c.measure_unit).label("measure_unit"),
        func.sum(b.c.value).label("value"),
        month_sum(b).label("value_month"),
        func.count(b.c.value).label("n_units"),
    ).group_by(b.c.month, b.c.concept)
    return select(union_all(by_form, total).subquery("c"))


def _retention(cfg: Config) -> Select:
    # Counted at each labor load (warehouse.retention): the view only names the month and district.
    return (
        select(dim_month.c.month, dim_district.c.district, ret.c.persons, ret.c.kept, ret.c.gone, ret.c.new)
        .select_from(ret)
        .join(dim_month, dim_month.c.month_key == ret.c.month_key)
        .join(dim_district, dim_district.c.district_key == ret.c.district_key)
    )


def _origin_district(cfg: Config) -> Select:
    return (
        select(
            dim_month.c.month,
            dim_district.c.district,
            dim_origin.c.province,
            dim_origin.c.city,
            dim_origin.c.county,
            dim_origin.c.report_region,
            emp.c.persons,
        )
        .select_from(emp)
        .join(sub, and_(sub.c.submission_id == emp.c.submission_id, sub.c.kind == LABOR, sub.c.is_current == true()))
        .join(dim_month, dim_month.c.month_key == emp.c.month_key)
        .join(dim_district, dim_district.c.district_key == emp.c.district_key)
        .join(dim_origin, dim_origin.c.origin_key == emp.c.origin_key)
    )


register(
    View(
        name="v_indicator_history",
        grain="one row per submission × indicator × region: every accepted version of every value, superseded ones too",
        columns={
            "month": "reporting month 'YYYY-MM' (figures are year-to-date at its end)",
            "unit_code": "reporting unit's stable code",
            "unit_name": "reporting unit's name (填报单位)",
            "form_code": "form: 表1, 表2 or 表3",
            "row_no": "序号 of the indicator within its form",
            "indicator": "指标, as printed on the form",
            "category": "大类",
            "measure_unit": "单位: 人次 人 个 期 亿元 %",
            "concept": "the city-wide concept this row counts towards (config/forms.yaml), or NULL",
            "region": "the total column or a supported region (see dim_region)",
            "value": "the year-to-date figure as reported; NULL where the cell was left blank",
            "remark": "备注 (表3, on the 合计 row)",
            "submission_id": "the file this number came from (v_submission)",
            "version": "1, 2, ... among the unit's accepted files for the month",
            "is_current": "true on the latest accepted version",
            "status": "received, accepted or rejected",
            "original_name": "file name as sent",
            "received_at": "when the file arrived",
            "is_late": "received after the month's deadline",
        },
        build=_history,
    )
)

register(
    View(
        name="v_submission",
        grain="one row per distinct file received (by SHA-256), report or labor",
        columns={
            "submission_id": "identifier of the file",
            "kind": "report or labor",
            "month": "reporting month 'YYYY-MM'",
            "unit_code": "reporting unit's code (NULL when it could not be told)",
            "unit_name": "reporting unit's name",
            "form_code": "form of a report file",
            "original_name": "file name as sent",
            "received_at": "when it arrived",
            "sent_on": "报送时间 as written on the form",
            "deadline": "last day the month's report is on time",
            "is_late": "received after the deadline (Asia/Shanghai date)",
            "on_time": "the opposite of is_late",
            "status": "received, accepted or rejected",
            "version": "1, 2, ... among accepted files per unit and month",
            "is_current": "latest accepted version",
            "n_errors": "errors found (an error rejects the file)",
            "n_warnings": "warnings found",
            "n_rows": "indicator rows read",
            "message": "why it was rejected, if it was",
        },
        build=_submission,
    )
)

register(
    View(
        name="v_completeness",
        grain="one row per month in which any report arrived × active reporting unit (expected to report)",
        columns={
            "month": "reporting month 'YYYY-MM'",
            "year": "calendar year",
            "quarter": "1-4",
            "unit_code": "reporting unit's code",
            "unit_name": "reporting unit's name",
            "unit_kind": "district, bureau or front_post",
            "form_code": "the form the unit fills",
            "deadline": "last day the report is on time",
            "reported": "an accepted report is current for the month",
            "on_time": "the first accepted version arrived by the deadline",
            "current_version": "version number of the current report, NULL if none",
            "submission_id": "the current report's submission, NULL if none",
            "n_expected": "units expected for the month",
            "n_reported": "units with an accepted report",
            "n_on_time": "units whose first accepted report was on time",
            "reporting_rate": "percent of expected units that reported (month-wide)",
            "on_time_rate": "percent of expected units that reported on time (month-wide)",
            "form_reporting_rate": "percent of the form's units that reported",
        },
        build=_completeness,
    )
)

register(
    View(
        name="v_concept_month",
        grain="one row per month × concept × form, plus one city-wide row per month × concept (form_code 合计)",
        columns={
            "month": "reporting month 'YYYY-MM'",
            "concept": "a measure reported on more than one form (the concept keys of config/forms.yaml)",
            "form_code": "表1, 表2, 表3, or 合计 for the sum over the forms",
            "row_no": "序号 of the row in that form (NULL on 合计)",
            "measure_unit": "单位 of the concept",
            "value": "sum of the current year-to-date 合计 values of the units",
            "value_month": "sum of the units' monthly increments; NULL unless every reporting unit has one",
            "n_units": "units whose current report gives a value",
        },
        build=_concept_month,
    )
)

register(
    View(
        name="v_labor_retention",
        grain="one row per month with a current labor file × Beijing district of employment",
        columns={
            "month": "reporting month 'YYYY-MM'",
            "district": "district of employment (就业区)",
            "persons": "insured registered poor laborers employed in the district this month",
            "kept": "of them, insured in the same district the month before (NULL when that month has no labor file)",
            "gone": "insured in the district the month before but not this month (moved, lapsed or left)",
            "new": "insured in the district this month but not the month before",
        },
        build=_retention,
    )
)

register(
    View(
        name="v_labor_origin_district",
        grain="one row per month × district of employment × county of origin, current labor file only",
        columns={
            "month": "reporting month 'YYYY-MM'",
            "district": "district of employment (就业区)",
            "province": "户籍省 of origin",
            "city": "户籍市 of origin",
            "county": "户籍县 of origin",
            "report_region": "the report column the origin counts in (内蒙古, 河北, ... 其他)",
            "persons": "distinct insured registered poor laborers",
        },
        build=_origin_district,
    )
)
