"""The month a close publishes: the previous month on the office's wall clock, across a year end."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import Config
from tasks.publish.close import close_month

UTC = dt.UTC


@pytest.mark.parametrize(
    ("utc", "month"),
    [
        (dt.datetime(2020, 12, 31, 15, 59, tzinfo=UTC), "2020-11"),  # 23:59 on 31 Dec in Beijing
        (dt.datetime(2020, 12, 31, 16, 0, tzinfo=UTC), "2020-12"),  # 00:00 on 1 Jan in Beijing
        (dt.datetime(2021, 1, 9, 10, 0, tzinfo=UTC), "2020-12"),  # the January close, 18:00 on the 9th
        (dt.datetime(2020, 10, 9, 10, 0, tzinfo=UTC), "2020-09"),
        (dt.datetime(2020, 3, 1, 0, 0, tzinfo=UTC), "2020-02"),
    ],
)
def test_close_month_on_the_office_clock(utc: dt.datetime, month: str, cfg: Config) -> None:
    assert close_month(utc, cfg.calendar.timezone) == month


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_close_month_is_the_month_before_the_local_date(now: dt.datetime) -> None:
    local = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    year, month = map(int, close_month(now, "Asia/Shanghai").split("-"))
    assert (year * 12 + month) == (local.year * 12 + local.month) - 1
    assert 1 <= month <= 12


def test_close_month_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError):
        close_month(dt.datetime(2021, 1, 1), "Asia/Shanghai")
