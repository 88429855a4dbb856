"""Locking a month (锁定) and reopening one unit for a few days (重新开放), each audited as a transition."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, insert, select, update

from config import Config
from core.month import Month, month_key
from tasks.review.actions import unit_key_of
from tasks.review.states import LOCKED, MonthLock, ReviewRefused, check_move, month_lock, unit_review, unit_reviews
from tasks.review.transitions import Transition, record
from warehouse.schema import dim_unit, fct_month_lock
from warehouse.seed import ensure_months
from warehouse.versions import lock_unit

DEFAULT_REOPEN_DAYS = 3


def _hold_all_units(conn: Connection) -> None:
    """Every unit's row until commit, in key order: a load in flight finishes first, a later one sees the lock."""
    conn.execute(select(dim_unit.c.unit_key).order_by(dim_unit.c.unit_key).with_for_update()).all()


def lock_month(
    engine: Engine,
    cfg: Config,
    month: str,
    actor: str,
    reason: str | None = None,
    publication_id: int | None = None,
    now: dt.datetime | None = None,
    strict: bool = True,
) -> list[Transition]:
    """Lock the month: every unit not locked yet (never locked, or reopened) becomes 已锁定; with `strict`, locking a
    month that is already wholly locked is refused. Returns the transitions recorded."""
    month = Month(month)
    at = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        ensure_months(conn, cfg, [month])
        _hold_all_units(conn)
        key = month_key(month)
        existing = month_lock(conn, key)
        moving = [r for r in unit_reviews(conn, key, at) if r.state != LOCKED]
        if existing is not None and not moving:
            if strict:
                raise ReviewRefused(
                    f"{month} 已于 {existing.locked_at:%Y-%m-%d %H:%M} UTC 由 {existing.locked_by} 锁定 / "
                    f"{month} is already locked"
                )
            return []
        values = {"locked_at": at, "locked_by": actor, "reason": reason}
        if publication_id is not None:
            values["publication_id"] = publication_id
        if existing is None:
            conn.execute(insert(fct_month_lock).values(month_key=key, **values))
        else:  # a lock after reopens: they end now
            conn.execute(update(fct_month_lock).where(fct_month_lock.c.month_key == key).values(**values))
        out = []
        for r in moving:
            t = Transition(r.unit_code, month, "lock", r.state, LOCKED, actor, at, reason, r.submission_id, r.version)
            record(conn, t, r.unit_key)
            out.append(t)
    return out


def reopen_unit(
    engine: Engine,
    unit_code: str,
    month: str,
    actor: str,
    reason: str,
    days: float = DEFAULT_REOPEN_DAYS,
    now: dt.datetime | None = None,
) -> Transition:
    """Reopen one unit of a locked month for `days` (default 3): it may send a new file until then; the others stay
    locked."""
    month = Month(month)
    if not (reason or "").strip():
        raise ReviewRefused(f"{unit_code} {month}：重新开放必须注明原因 / a reopen needs a reason (--reason)")
    if days <= 0:
        raise ReviewRefused(f"重新开放天数须大于0 / --days must be positive, not {days}")
    at = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        key = unit_key_of(conn, unit_code)
        lock_unit(conn, key)
        mk = month_key(month)
        if month_lock(conn, mk) is None:
            raise ReviewRefused(f"{month} 尚未锁定，无需重新开放 / {month} is not locked")
        check_move("reopen", unit_review(conn, key, mk, at).state, f"{unit_code} {month}")
        opened = unit_review(conn, key, mk, at, with_lock=False)
        t = Transition(
            unit_code,
            month,
            "reopen",
            LOCKED,
            opened.state,
            actor,
            at,
            reason.strip(),
            opened.submission_id,
            opened.version,
            at + dt.timedelta(days=days),
        )
        record(conn, t, key)
    return t


def lock_against(conn: Connection, unit_key: int, month: str, now: dt.datetime) -> MonthLock | None:
    """The month's lock when it holds for this unit now (not reopened for it), else None; call under lock_unit."""
    mk = month_key(month)
    lock = month_lock(conn, mk)
    if lock is None:
        return None
    return lock if unit_review(conn, unit_key, mk, now).state == LOCKED else None
