"""fct_labor_retention: per month and district, the insured people kept, gone and new against the month before."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, and_, func, select, true
from sqlalchemy.sql import Select

from warehouse.schema import dim_district
from warehouse.schema import fct_labor_retention as ret
from warehouse.schema import fct_submission as sub
from warehouse.schema import restricted_labor_person as rlp

LABOR = "labor"
# Insured people per district of a (submission_id, month_key) its caller already holds: the load counts its own file
# in memory, so the refresh never reads back the rows it has just written.
Known = Mapping[tuple[int, int], Mapping[int, int]]


def previous_key(key: int) -> int:
    """The month_key (YYYYMM) of the month before, across the year end."""
    return key - 89 if key % 100 == 1 else key - 1


def _current_file(conn: Connection, key: int) -> int | None:
    return conn.execute(
        select(sub.c.submission_id).where(sub.c.kind == LABOR, sub.c.is_current == true(), sub.c.month_key == key)
    ).scalar()


def insured_by_district(sid: int, key: int) -> Select:
    """Insured people per district in one file: one range of the person key, in the month's partition."""
    people = rlp.alias("p")
    return (
        select(people.c.district_key, func.count())
        .where(people.c.month_key == key, people.c.submission_id == sid, people.c.is_insured == true())
        .group_by(people.c.district_key)
    )


def kept_by_district(sid: int, key: int, prev_sid: int, prev_key: int) -> Select:
    """People insured in the same district in both files: each of this month's people is one key lookup last month."""
    now, before = rlp.alias("now_p"), rlp.alias("before_p")
    return (
        select(now.c.district_key, func.count())
        .join(
            before,
            and_(
                before.c.month_key == prev_key,
                before.c.submission_id == prev_sid,
                before.c.district_key == now.c.district_key,
                before.c.person_key == now.c.person_key,
                before.c.is_insured == true(),
            ),
        )
        .where(now.c.month_key == key, now.c.submission_id == sid, now.c.is_insured == true())
        .group_by(now.c.district_key)
    )


def _insured(conn: Connection, sid: int, key: int, known: Known) -> Mapping[int, int]:
    if (sid, key) in known:
        return known[(sid, key)]
    return dict(conn.execute(insured_by_district(sid, key)).tuples().all())


def retention_rows(conn: Connection, key: int, known: Known | None = None) -> list[dict]:
    """The month's rows, one per district, or none when the month has no current labor file."""
    known = known or {}
    sid = _current_file(conn, key)
    if sid is None:
        return []
    prev_key = previous_key(key)
    prev_sid = _current_file(conn, prev_key)
    persons = _insured(conn, sid, key, known)
    if prev_sid is not None:
        earlier = _insured(conn, prev_sid, prev_key, known)
        kept = dict(conn.execute(kept_by_district(sid, key, prev_sid, prev_key)).tuples().all())
    out = []
    for (district,) in conn.execute(select(dim_district.c.district_key)).tuples():
        n = persons.get(district, 0)
        row = {"month_key": key, "district_key": district, "persons": n, "kept": None, "gone": None, "new": None}
        if prev_sid is not None:
            k = kept.get(district, 0)
            row.update(kept=k, gone=earlier.get(district, 0) - k, new=n - k)
        out.append(row)
    return out


def rebuild_retention(conn: Connection, month_keys: Iterable[int], known: Known | None = None) -> None:
    """Replace the retention rows of the given months by counts from their current labor files (none without one);
    `known` gives files' insured counts the caller already holds."""
    keys = sorted(set(month_keys))
    if not keys:
        return
    conn.execute(ret.delete().where(ret.c.month_key.in_(keys)))
    rows = [row for key in keys for row in retention_rows(conn, key, known)]
    if rows:
        conn.execute(ret.insert(), rows)
