"""The review state (审核状态) of a unit's month, derived from its submissions, the office's actions and the lock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from core.clock import as_utc
from core.errors import FupinError
from warehouse.schema import (
    REVIEW_STATES,
    dim_unit,
    fct_month_lock,
    fct_review_transition,
    fct_submission,
)

UNREPORTED, PENDING, APPROVED, RETURNED, LOCKED = REVIEW_STATES
LABELS = {UNREPORTED: "未报", PENDING: "待审", APPROVED: "已审核", RETURNED: "退回", LOCKED: "已锁定"}
OPEN = frozenset({UNREPORTED, PENDING, APPROVED, RETURNED})

# action -> (the states it may start from, the state it leads to); a reopen leads back to the derived state.
MOVES: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (OPEN, PENDING),
    "approve": (frozenset({PENDING}), APPROVED),
    "return": (frozenset({PENDING, APPROVED}), RETURNED),
    "lock": (OPEN, LOCKED),
    "reopen": (frozenset({LOCKED}), None),
}
ACTION_LABELS = {"submit": "报送", "approve": "审核通过", "return": "退回", "lock": "锁定", "reopen": "重新开放"}


class ReviewRefused(FupinError):
    """A review action that the unit-month's state or its input does not allow (exit 1)."""


@dataclass(frozen=True)
class MonthLock:
    locked_at: dt.datetime
    locked_by: str
    reason: str | None


@dataclass(frozen=True)
class UnitReview:
    """One unit's month as the office sees it: state, the version counted, and the last decision's why."""

    unit_code: str
    unit_key: int
    state: str
    submission_id: int | None = None
    version: int | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    reason: str | None = None
    reopen_until: dt.datetime | None = None

    @property
    def label(self) -> str:
        return LABELS[self.state]


def check_move(action: str, state: str, who: str) -> str | None:
    """The state `action` leads to from `state`, or ReviewRefused saying which move is not allowed."""
    starts, to = MOVES[action]
    if state not in starts:
        allowed = "、".join(LABELS[s] for s in sorted(starts, key=REVIEW_STATES.index))
        raise ReviewRefused(
            f"{who}：当前状态为“{LABELS[state]}”，不能{ACTION_LABELS[action]}"
            f"（只能从 {allowed} {ACTION_LABELS[action]}）"
            f" / cannot {action} from {state}"
        )
    return to


def aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive UTC times; PostgreSQL aware ones: compare them as aware UTC."""
    return None if t is None else as_utc(t)


def month_lock(conn: Connection, month_key: int) -> MonthLock | None:
    row = conn.execute(select(fct_month_lock).where(fct_month_lock.c.month_key == month_key)).first()
    return MonthLock(aware(row.locked_at), row.locked_by, row.reason) if row else None  # type: ignore[arg-type]


def unit_reviews(
    conn: Connection, month_key: int, now: dt.datetime, unit_keys: list[int] | None = None, with_lock: bool = True
) -> list[UnitReview]:
    """Every active unit's review of the month (or only `unit_keys`), in the office's order; `with_lock=False`: the
    state the unit would have if the month were not locked (where a reopen leads)."""
    units = select(dim_unit.c.unit_key, dim_unit.c.unit_code)
    units = units.where(dim_unit.c.is_active.is_(True) if unit_keys is None else dim_unit.c.unit_key.in_(unit_keys))
    s, t = fct_submission, fct_review_transition
    current = {
        r.unit_key: r
        for r in conn.execute(
            select(s.c.unit_key, s.c.submission_id, s.c.version).where(
                s.c.kind == "report", s.c.status == "accepted", s.c.is_current.is_(True), s.c.month_key == month_key
            )
        )
    }
    moves: dict[int, list] = {}
    for r in conn.execute(select(t).where(t.c.month_key == month_key).order_by(t.c.transition_id)):
        moves.setdefault(r.unit_key, []).append(r)
    lock = month_lock(conn, month_key) if with_lock else None
    out = []
    for unit_key, code in conn.execute(units.order_by(dim_unit.c.sort_order)):
        cur = current.get(unit_key)
        out.append(_derive(code, unit_key, cur, moves.get(unit_key, []), lock, now))
    return out


def _derive(code: str, unit_key: int, cur, moves: list, lock: MonthLock | None, now: dt.datetime) -> UnitReview:
    decided = [m for m in moves if m.action in ("approve", "return") and cur and m.submission_id == cur.submission_id]
    last = decided[-1] if decided else None
    state = UNREPORTED if cur is None else PENDING
    if last is not None:
        state = APPROVED if last.action == "approve" else RETURNED
    reopen_until = None
    if lock is not None:
        reopens = [
            aware(m.expires_at)
            for m in moves
            if m.action == "reopen" and aware(m.acted_at) >= lock.locked_at and aware(m.expires_at) > now  # type: ignore[operator]
        ]
        reopen_until = max(reopens) if reopens else None  # type: ignore[type-var]
        if reopen_until is None:
            state = LOCKED
    return UnitReview(
        code,
        unit_key,
        state,
        cur.submission_id if cur else None,
        cur.version if cur else None,
        last.actor if last else None,
        aware(last.acted_at) if last else None,
        last.reason if last else None,
        reopen_until,
    )


def unit_review(
    conn: Connection, unit_key: int, month_key: int, now: dt.datetime, with_lock: bool = True
) -> UnitReview:
    [review] = unit_reviews(conn, month_key, now, [unit_key], with_lock)
    return review
