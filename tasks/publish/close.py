"""Closing a month: which month (the one before today, office time), and whether today is the day to act."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from config import Config
from core.clock import office_date
from core.month import Month, month_of, reporting_month_for

# How far before its set day an action can move: the longest run of holidays and weekends (Spring Festival, 9 days).
MAX_MOVE_DAYS = 15


def close_month(now: dt.datetime, timezone: str) -> Month:
    """The reporting month being closed at `now` (aware), judged by the office's wall clock in `timezone`."""
    if now.tzinfo is None:
        raise ValueError("close_month needs an aware datetime")
    return reporting_month_for(office_date(now, timezone))


def due_month(cfg: Config, today: dt.date, day: int, done: Callable[[Month], bool]) -> Month | None:
    """The reporting month whose action, set for `day` of the following month, is due `today` (office date): today is
    its day moved to a working day (config.action_day), or a run between that day and the set day finds the action
    not `done` yet (a schedule that fires only on the set day still acts). None: nothing is due today.
    A year no calendar covers raises CalendarGap rather than guess."""
    for month in (reporting_month_for(today), month_of(today)):
        after = month.shift(1)
        nominal = dt.date(after.year, after.mon, day)
        if not 0 <= (nominal - today).days <= MAX_MOVE_DAYS:
            continue
        act = cfg.action_day(month, day)
        if act == today or (act < today and not done(month)):
            return month
    return None


def close_due(cfg: Config, today: dt.date, closed: Callable[[Month], bool]) -> Month | None:
    """The month to close today, if the close day (moved to a working day) has come; for monthly-close."""
    return due_month(cfg, today, cfg.calendar.close_day, closed)
