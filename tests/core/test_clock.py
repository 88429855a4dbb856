"""The office clock: one reading of instants on the office's wall clock, whether they come aware or naive (UTC)."""

from __future__ import annotations

import datetime as dt

from core.clock import office_date, office_now, office_time, office_wall

TZ = "Asia/Shanghai"


def test_the_office_date_turns_at_its_own_midnight() -> None:
    assert office_date(dt.datetime(2020, 10, 10, 15, 59, tzinfo=dt.UTC), TZ) == dt.date(2020, 10, 10)
    assert office_date(dt.datetime(2020, 10, 10, 16, 0, tzinfo=dt.UTC), TZ) == dt.date(2020, 10, 11)


def test_a_naive_time_is_utc_as_the_warehouse_keeps_it() -> None:
    assert office_date(dt.datetime(2020, 10, 10, 16, 0), TZ) == dt.date(2020, 10, 11)
    assert office_wall(dt.datetime(2020, 10, 10, 16, 30), TZ) == dt.datetime(2020, 10, 11, 0, 30)


def test_office_time_is_the_instant_the_wall_clock_shows_that_hour() -> None:
    at = office_time(dt.date(2020, 10, 11), 10, TZ)
    assert at == dt.datetime(2020, 10, 11, 2, 0, tzinfo=dt.UTC) and at.tzinfo is dt.UTC
    assert office_wall(at, TZ) == dt.datetime(2020, 10, 11, 10, 0)


def test_now_is_aware_and_on_the_office_clock() -> None:
    now = office_now(TZ)
    assert now.utcoffset() == dt.timedelta(hours=8)
