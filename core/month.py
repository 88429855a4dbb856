"""Reporting months: the `Month` type ('YYYY-MM', checked once at the edge), its one error, keys and neighbours."""

from __future__ import annotations

import datetime as dt
import re

from core.errors import UsageError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MonthError(UsageError, ValueError):
    """A month that is not 'YYYY-MM': a usage error (exit 2), and a ValueError for code that asks for one."""


class Month(str):
    """A reporting month 'YYYY-MM'; constructing one checks it, and it stays a str for binds and f-strings."""

    __slots__ = ()

    def __new__(cls, value: object) -> Month:
        if isinstance(value, Month):
            return value
        if not isinstance(value, str) or not _MONTH.match(value):
            raise MonthError(f"月份应形如 2020-09 / month must look like 2020-09, not {value!r}")
        return super().__new__(cls, value)

    @classmethod
    def of(cls, year: int, mon: int) -> Month:
        return cls(f"{year:04d}-{mon:02d}")

    @property
    def year(self) -> int:
        return int(self[:4])

    @property
    def mon(self) -> int:
        return int(self[5:])

    @property
    def key(self) -> int:
        """The warehouse's month_key: 2020-09 -> 202009."""
        return self.year * 100 + self.mon

    def shift(self, delta: int) -> Month:
        """The month `delta` months after this one (negative for before), across year ends."""
        index = self.year * 12 + (self.mon - 1) + delta
        return Month.of(index // 12, index % 12 + 1)

    def previous(self) -> Month:
        return self.shift(-1)


def is_month(value: object) -> bool:
    """Whether `value` is a month 'YYYY-MM', for data read from files or runs (no error raised)."""
    try:
        Month(value)
    except MonthError:
        return False
    return True


def month_key(month: str) -> int:
    return Month(month).key


def format_month(year: int, mon: int) -> Month:
    return Month.of(year, mon)


def shift_month(month: str, delta: int) -> Month:
    """The month `delta` months after `month` (negative for before), across year ends."""
    return Month(month).shift(delta)


def previous_month(month: str) -> Month:
    return Month(month).previous()


def month_range(first: str, last: str) -> list[Month]:
    """Every month from `first` to `last`, both included."""
    out, m = [], Month(first)
    while m <= last:
        out.append(m)
        m = m.shift(1)
    return out


def month_of(day: dt.date) -> Month:
    return Month.of(day.year, day.month)


def reporting_month_for(day: dt.date) -> Month:
    """The month being reported on `day`: the previous calendar month."""
    return month_of(day).previous()
