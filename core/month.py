"""Reporting months as 'YYYY-MM' strings: parsing, keys, ranges and neighbours."""

from __future__ import annotations

import datetime as dt
import re

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> tuple[int, int]:
    """('2020-09') -> (2020, 9); ValueError for anything else."""
    m = _MONTH.match(month or "")
    if not m:
        raise ValueError(f"month must look like 2020-09, not {month!r}")
    return int(m[1]), int(m[2])


def month_key(month: str) -> int:
    year, mon = parse_month(month)
    return year * 100 + mon


def format_month(year: int, mon: int) -> str:
    return f"{year:04d}-{mon:02d}"


def shift_month(month: str, delta: int) -> str:
    """The month `delta` months after `month` (negative for before), across year ends."""
    year, mon = parse_month(month)
    index = year * 12 + (mon - 1) + delta
    return format_month(index // 12, index % 12 + 1)


def previous_month(month: str) -> str:
    return shift_month(month, -1)


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    out, m = [], first
    while m <= last:
        out.append(m)
        m = shift_month(m, 1)
    return out


def month_of(day: dt.date) -> str:
    return format_month(day.year, day.month)


def reporting_month_for(day: dt.date) -> str:
    """The month being reported on `day`: the previous calendar month."""
    return previous_month(month_of(day))
