"""What the board shows of the office's 审核: a unit-month's review state, its history and its warnings' 说明, and
every unit's state and the lock for the month page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from core.month import month_key
from tasks.review.actions import unit_key_of
from tasks.review.explain import STATUS_LABELS, WarningView, warnings_of
from tasks.review.states import LABELS, MOVES, MonthLock, UnitReview, month_lock, unit_review, unit_reviews
from tasks.review.transitions import Transition, history

ACTION_NAMES = {
    "submit": "报送 submitted",
    "approve": "审核通过 approved",
    "return": "退回 returned",
    "lock": "锁定 locked",
    "reopen": "重新开放 reopened",
}


def may(action: str, state: str) -> bool:
    """Whether the domain's transition table lets `action` start from `state` (which buttons to show)."""
    return state in MOVES[action][0]


@dataclass(frozen=True)
class UnitReviewView:
    """One unit's month for the review panel: its state, the month's lock, every transition, the warnings."""

    review: UnitReview
    lock: MonthLock | None
    moves: list[Transition]
    warnings: list[WarningView]

    @property
    def label(self) -> str:
        return LABELS[self.review.state]


def unit_review_view(engine: Engine, unit_code: str, month: str) -> UnitReviewView:
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        key, mk = unit_key_of(conn, unit_code), month_key(month)
        review = unit_review(conn, key, mk, now)
        found = warnings_of(conn, [review.submission_id]) if review.submission_id is not None else []
        return UnitReviewView(review, month_lock(conn, mk), history(conn, unit_code, month), found)


@dataclass(frozen=True)
class MonthReview:
    """Every active unit's review state for the month, and the month's lock if there is one."""

    by_unit: dict[str, UnitReview]
    lock: MonthLock | None


def month_review(engine: Engine, month: str) -> MonthReview:
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        mk = month_key(month)
        return MonthReview({r.unit_code: r for r in unit_reviews(conn, mk, now)}, month_lock(conn, mk))


__all__ = ["ACTION_NAMES", "LABELS", "STATUS_LABELS", "MonthReview", "UnitReviewView", "may"]
