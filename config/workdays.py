"""Which days the office works: config/calendar.yaml's own table first, then chinesecalendar's official 调休 data."""

from __future__ import annotations

import datetime as dt

from config.model import Calendar
from core.errors import CannotWork


class CalendarGap(CannotWork):
    """A day in a year neither chinesecalendar nor config/calendar.yaml covers: nobody guesses the holidays."""


def is_working_day(calendar: Calendar, day: dt.date) -> bool:
    """True when the office works on `day`; CalendarGap for a year that no table covers."""
    table = calendar.working_days
    if day in table.days_off:
        return False
    if day in table.days_on:
        return True
    if day.year in table.declared_years:
        return day.weekday() < 5
    import chinese_calendar  # type: ignore[import-untyped]  # ships no type hints

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise CalendarGap(
            f"{day.year} 年的节假日安排未知：chinesecalendar 没有该年数据，config/calendar.yaml 的 working_days "
            f"也未声明；请在 declared_years 和 days_off/days_on 中补充 / no holiday data for {day.year}: declare it in "
            "config/calendar.yaml (working_days) or upgrade chinesecalendar"
        ) from None


def working_day_on_or_before(calendar: Calendar, day: dt.date) -> dt.date:
    """`day` if the office works then, else the working day before it (a holiday or weekend moves an action earlier)."""
    while not is_working_day(calendar, day):
        day -= dt.timedelta(days=1)
    return day
