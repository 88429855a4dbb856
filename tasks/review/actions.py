"""The office's decisions on a unit's month: approve (审核通过) or return (退回) the version counted, with a reason."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, select

from core.errors import UsageError
from core.month import Month, month_key
from tasks.review.states import PENDING, ReviewRefused, check_move, unit_review
from tasks.review.transitions import Transition, record
from warehouse.schema import dim_unit
from warehouse.versions import lock_unit


def unit_key_of(conn: Connection, unit_code: str) -> int:
    """The warehouse key of a unit code; an unknown code is a usage error."""
    key = conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == unit_code)).scalar()
    if key is None:
        raise UsageError(f"未知的填报单位代码 / unknown unit code: {unit_code}")
    return key


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def _decide(
    engine: Engine, unit_code: str, month: str, action: str, actor: str, reason: str | None, now: dt.datetime | None
) -> Transition:
    month = Month(month)
    at = _now(now)
    with engine.begin() as conn:
        key = unit_key_of(conn, unit_code)
        lock_unit(conn, key)  # a load for the unit waits, so the decision is on the version it names
        review = unit_review(conn, key, month_key(month), at)
        to = check_move(action, review.state, f"{unit_code} {month}")
        assert to is not None  # approve and return lead to a fixed state
        t = Transition(
            unit_code, month, action, review.state, to, actor, at, reason, review.submission_id, review.version
        )
        record(conn, t, key)
    return t


def approve(engine: Engine, unit_code: str, month: str, actor: str, now: dt.datetime | None = None) -> Transition:
    """审核通过: the unit's current version is approved (from 待审 only)."""
    return _decide(engine, unit_code, month, "approve", actor, None, now)


def return_report(
    engine: Engine, unit_code: str, month: str, actor: str, reason: str, now: dt.datetime | None = None
) -> Transition:
    """退回: the unit's current version goes back to it with a reason (from 待审 or 已审核); no reason, no return."""
    if not (reason or "").strip():
        raise ReviewRefused(f"{unit_code} {month}：退回必须注明原因 / a return needs a reason (--reason)")
    return _decide(engine, unit_code, month, "return", actor, reason.strip(), now)


def submitted(
    conn: Connection,
    unit_key: int,
    unit_code: str,
    month: str,
    submission_id: int,
    version: int,
    before: str,
    actor: str,
    at: dt.datetime,
) -> Transition:
    """A new current version was loaded (in the load's transaction, under the unit's lock): back to 待审."""
    t = Transition(unit_code, month, "submit", before, PENDING, actor, at, None, submission_id, version)
    record(conn, t, unit_key)
    return t
