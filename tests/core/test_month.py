"""One Month type: every command and flow rejects a bad month with the same error, before it touches anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from core.errors import UsageError
from core.month import Month, MonthError, is_month, month_range, reporting_month_for
from flows.ingest_labor import ingest_labor
from flows.monthly_close import monthly_close
from flows.publish_month import publish_month
from flows.remind_late_units import remind_late_units
from fupin.cli import app

BAD = "2020-13"
MESSAGE = "月份应形如 2020-09 / month must look like 2020-09, not '2020-13'"


def test_a_month_is_a_checked_string() -> None:
    m = Month("2020-12")
    assert (m, m.year, m.mon, m.key) == ("2020-12", 2020, 12, 202012)
    assert (m.shift(1), m.previous(), m.shift(-12)) == ("2021-01", "2020-11", "2019-12")
    assert f"{m}" == "2020-12" and Month(m) is m
    assert month_range("2020-11", "2021-02") == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert reporting_month_for(dt.date(2021, 1, 5)) == "2020-12"


@pytest.mark.parametrize("bad", ["2020-13", "2020-9", "2020-00", "", None, 202009, " 2020-09"])
def test_anything_else_is_a_usage_error(bad: object) -> None:
    with pytest.raises(MonthError) as info:
        Month(bad)
    assert isinstance(info.value, UsageError) and isinstance(info.value, ValueError)
    assert info.value.exit_code == 2
    assert not is_month(bad)


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "--month", BAD],
        ["remind", "--month", BAD],
        ["templates", "--month", BAD],
        ["export", "--month", BAD],
        ["labor", "no-such.csv", "--month", BAD],
    ],
)
def test_every_command_says_the_same(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert type(result.exception) is MonthError and str(result.exception) == MESSAGE


@pytest.mark.parametrize(
    "call",
    [
        lambda: publish_month.fn(BAD),
        lambda: monthly_close.fn(BAD),
        lambda: remind_late_units.fn(BAD),
        lambda: ingest_labor.fn("no-such.csv", BAD),
    ],
)
def test_every_flow_says_the_same(call: Callable[[], object]) -> None:
    with pytest.raises(MonthError) as info:
        call()
    assert str(info.value) == MESSAGE
