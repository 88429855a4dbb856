"""The faster views give the very answers of the SQL they replaced, on SQLite and PostgreSQL.

The reference queries below are the views as they were before: v_concept_month over v_indicator_value, and
v_labor_retention counting two months of people on every read.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, Integer, and_, case, cast, column, func, literal, select, table, text, true, union_all
from sqlalchemy.sql import Select

from config import Config
from warehouse.schema import dim_district, dim_form, dim_indicator, dim_month
from warehouse.schema import fct_submission as sub
from warehouse.schema import restricted_labor_person as rlp
from warehouse.synthetic import Plan, load_synthetic
from warehouse.views.analyst import shared_concepts

# Across a year end, with restatements, late, missing and rejected reports, and people moving district.
PLAN = Plan(months=("2020-11", "2020-12", "2021-01", "2021-02"), laborers=400)
IV = table(
    "v_indicator_value", *(column(n) for n in ("month", "form_code", "row_no", "region", "value", "value_month"))
)


def old_concept_month(cfg: Config) -> Select:
    def rows(name: str):
        return (
            select(
                IV.c.month,
                dim_indicator.c.concept,
                IV.c.form_code,
                IV.c.row_no,
                dim_indicator.c.measure_unit,
                IV.c.value,
                IV.c.value_month,
            )
            .select_from(IV)
            .join(dim_form, dim_form.c.form_code == IV.c.form_code)
            .join(
                dim_indicator,
                and_(dim_indicator.c.form_key == dim_form.c.form_key, dim_indicator.c.row_no == IV.c.row_no),
            )
            .where(IV.c.region == cfg.total_column, dim_indicator.c.concept.in_(sorted(shared_concepts(cfg))))
            .subquery(name)
        )

    def month_sum(base):
        return case((func.count(base.c.value_month) == func.count(base.c.value), func.sum(base.c.value_month)))

    def summed(base, form_code, row_no, group):
        return select(
            base.c.month,
            base.c.concept,
            form_code,
            row_no,
            func.min(base.c.measure_unit).label("measure_unit"),
            func.sum(base.c.value).label("value"),
            month_sum(base).label("value_month"),
            func.count(base.c.value).label("n_units"),
        ).group_by(*group)

    a, b = rows("by_form"), rows("city")
    by_form = summed(a, a.c.form_code, func.min(a.c.row_no).label("row_no"), [a.c.month, a.c.concept, a.c.form_code])
    total = summed(
        b,
        literal(cfg.total_column).label("form_code"),
        cast(literal(None), Integer).label("row_no"),
        [b.c.month, b.c.concept],
    )
    return select(union_all(by_form, total).subquery("c"))


def old_retention() -> Select:
    cur, prev = sub.alias("cur"), sub.alias("prev")
    previous = case(
        (dim_month.c.month_of_year == 1, (dim_month.c.year - 1) * 100 + 12), else_=dim_month.c.month_key - 1
    )
    months = (
        select(dim_month.c.month, cur.c.submission_id.label("sid"), prev.c.submission_id.label("prev_sid"))
        .join(cur, and_(cur.c.month_key == dim_month.c.month_key, cur.c.kind == "labor", cur.c.is_current == true()))
        .outerjoin(prev, and_(prev.c.month_key == previous, prev.c.kind == "labor", prev.c.is_current == true()))
        .subquery("lm")
    )
    now, before = rlp.alias("now_p"), rlp.alias("before_p")

    def insured(people, sid):
        return and_(
            people.c.submission_id == sid,
            people.c.district_key == dim_district.c.district_key,
            people.c.is_insured == true(),
        )

    persons = select(func.count()).select_from(now).where(insured(now, months.c.sid)).scalar_subquery()
    earlier = select(func.count()).select_from(before).where(insured(before, months.c.prev_sid)).scalar_subquery()
    kept = (
        select(func.count())
        .select_from(now)
        .join(before, and_(before.c.person_key == now.c.person_key, insured(before, months.c.prev_sid)))
        .where(insured(now, months.c.sid))
        .scalar_subquery()
    )
    has_prev = months.c.prev_sid.is_not(None)
    return (
        select(
            months.c.month,
            dim_district.c.district,
            persons.label("persons"),
            case((has_prev, kept)).label("kept"),
            case((has_prev, earlier - kept)).label("gone"),
            case((has_prev, persons - kept)).label("new"),
        )
        .select_from(months)
        .join(dim_district, true())
    )


def answer(engine: Engine, query: Select | str) -> list[tuple]:
    with engine.connect() as conn:
        got = conn.execute(text(query) if isinstance(query, str) else query).all()
    return sorted(
        (tuple(float(v) if isinstance(v, (int, float)) or hasattr(v, "as_tuple") else v for v in r) for r in got),
        key=repr,
    )


@pytest.fixture
def loaded(engine: Engine, cfg: Config) -> Engine:
    load_synthetic(engine, cfg, PLAN)
    return engine


def test_concept_month_answers_as_the_sql_it_replaced(loaded: Engine, cfg: Config) -> None:
    new = answer(loaded, "SELECT * FROM v_concept_month")
    assert len(new) > 3 * len(PLAN.months)
    assert new == answer(loaded, old_concept_month(cfg))


def test_retention_answers_as_the_sql_it_replaced(loaded: Engine) -> None:
    new = answer(loaded, "SELECT * FROM v_labor_retention")
    assert len(new) == len(PLAN.months) * 16 and any(r[4] for r in new)  # someone left somewhere
    assert new == answer(loaded, old_retention())
