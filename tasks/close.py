"""The month a close publishes: the calendar month before today in the office's time zone."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from warehouse.months import reporting_month_for


def close_month(now: dt.datetime, timezone: str) -> str:
    """The reporting month being closed at `now` (aware), judged by the office's wall clock in `timezone`."""
    if now.tzinfo is None:
        raise ValueError("close_month needs an aware datetime")
    return reporting_month_for(now.astimezone(ZoneInfo(timezone)).date())
