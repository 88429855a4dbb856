"""fct_labor_retention: per month and district, the insured people kept, gone and new against the month before."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, case, func, select, true
from sqlalchemy.sql import ColumnElement, Select

from warehouse.schema import dim_district, dim_month
from warehouse.schema import fct_labor_retention as ret
from warehouse.schema import fct_submission as sub
from warehouse.schema import restricted_labor_person as rlp

LABOR = "labor"


def previous_key() -> ColumnElement[int]:
    """The month_key (YYYYMM) of the month before dim_month's, across the year end."""
    return case((dim_month.c.month_of_year == 1, dim_month.c.month_key - 89), else_=dim_month.c.month_key - 1)


def counts(month_keys: Iterable[int]) -> Select:
    """The retention rows of the given months that have a current labor file, one per district.

    Counted by correlated subqueries per month and district: the person key (submission, district, person, month)
    makes each count a range scan and each match one lookup, and the month pins one partition on PostgreSQL.
    """
    cur, prev = sub.alias("cur"), sub.alias("prev")
    months = (
        select(
            dim_month.c.month_key,
            cur.c.submission_id.label("sid"),
            prev.c.submission_id.label("prev_sid"),
            prev.c.month_key.label("prev_key"),
        )
        .join(cur, and_(cur.c.month_key == dim_month.c.month_key, cur.c.kind == LABOR, cur.c.is_current == true()))
        .outerjoin(
            prev,
            and_(
                prev.c.month_key == previous_key(),
                prev.c.kind == LABOR,
                prev.c.is_current == true(),
            ),
        )
        .where(dim_month.c.month_key.in_(sorted(set(month_keys))))
        .subquery("lm")
    )
    now, before = rlp.alias("now_p"), rlp.alias("before_p")

    def insured(people, sid, month):
        return and_(
            people.c.month_key == month,
            people.c.submission_id == sid,
            people.c.district_key == dim_district.c.district_key,
            people.c.is_insured == true(),
        )

    this = insured(now, months.c.sid, months.c.month_key)
    last = insured(before, months.c.prev_sid, months.c.prev_key)
    persons = select(func.count()).select_from(now).where(this).scalar_subquery()
    earlier = select(func.count()).select_from(before).where(last).scalar_subquery()
    kept = (
        select(func.count())
        .select_from(now)
        .join(before, and_(before.c.person_key == now.c.person_key, last))
        .where(this)
        .scalar_subquery()
    )
    has_prev = months.c.prev_sid.is_not(None)
    return select(
        months.c.month_key,
        dim_district.c.district_key,
        persons.label("persons"),
        case((has_prev, kept)).label("kept"),
        case((has_prev, earlier - kept)).label("gone"),
        case((has_prev, persons - kept)).label("new"),
    ).join(dim_district, true())


def rebuild_retention(conn: Connection, month_keys: Iterable[int]) -> None:
    """Replace the retention rows of the given months by counts from their current labor files (none without one)."""
    keys = sorted(set(month_keys))
    if not keys:
        return
    conn.execute(ret.delete().where(ret.c.month_key.in_(keys)))
    conn.execute(
        ret.insert().from_select(["month_key", "district_key", "persons", "kept", "gone", "new"], counts(keys))
    )
