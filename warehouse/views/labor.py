"""Analyst views of the HR bureau's labor records (Attachment 1), current labor file per month only."""

from __future__ import annotations

from sqlalchemy import and_, func, select, true
from sqlalchemy.sql import Select

from config import Config
from warehouse.schema import dim_district, dim_month, dim_origin
from warehouse.schema import fct_labor_employment as emp
from warehouse.schema import fct_submission as sub
from warehouse.views import View, register

KIND = "labor"


def _current_employment() -> Select:
    """Employment facts of each month's current labor submission, with month text and origin."""
    return (
        select(
            dim_month.c.month,
            emp.c.district_key,
            emp.c.persons,
            dim_origin.c.province,
            dim_origin.c.city,
            dim_origin.c.county,
        )
        .join(sub, and_(sub.c.submission_id == emp.c.submission_id, sub.c.kind == KIND, sub.c.is_current == true()))
        .join(dim_month, dim_month.c.month_key == emp.c.month_key)
        .join(dim_origin, dim_origin.c.origin_key == emp.c.origin_key)
    )


def _by_district(cfg: Config) -> Select:
    cur = _current_employment().where(dim_origin.c.province.in_(cfg.central_western_provinces)).subquery("cur")
    return (
        select(cur.c.month, dim_district.c.district, func.sum(cur.c.persons).label("persons"))
        .join(dim_district, dim_district.c.district_key == cur.c.district_key)
        .group_by(cur.c.month, dim_district.c.district)
    )


def _by_origin(cfg: Config) -> Select:
    cur = _current_employment().subquery("cur")
    return select(
        cur.c.month, cur.c.province, cur.c.city, cur.c.county, func.sum(cur.c.persons).label("persons")
    ).group_by(cur.c.month, cur.c.province, cur.c.city, cur.c.county)


register(
    View(
        name="v_labor_by_district",
        grain="one row per month × Beijing district of employment (Attachment 1 表1)",
        columns={
            "month": "reporting month 'YYYY-MM'",
            "district": "district of employment (就业区)",
            "persons": "insured registered poor laborers from the configured central/western provinces, counted once",
        },
        build=_by_district,
    )
)

register(
    View(
        name="v_labor_by_origin",
        grain="one row per month × county of origin (Attachment 1 表2 is its paired counties)",
        columns={
            "month": "reporting month 'YYYY-MM'",
            "province": "户籍省",
            "city": "户籍市 (city or league)",
            "county": "户籍县 (county or banner)",
            "persons": "insured registered poor laborers employed in Beijing",
        },
        build=_by_origin,
    )
)
