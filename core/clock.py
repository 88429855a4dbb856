"""The office clock: instants seen on the wall clock of the office's time zone (config calendar.timezone)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo


@cache
def office_zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def as_utc(ts: dt.datetime) -> dt.datetime:
    """A stored instant as an aware time: the warehouse keeps UTC, and SQLite hands it back without a zone."""
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def office_now(tz: str) -> dt.datetime:
    """Now, on the office's wall clock (aware)."""
    return dt.datetime.now(office_zone(tz))


def office_date(ts: dt.datetime, tz: str) -> dt.date:
    """The office's calendar date at the instant `ts` (a naive `ts` is UTC, as the warehouse stores it)."""
    return as_utc(ts).astimezone(office_zone(tz)).date()


def office_wall(ts: dt.datetime, tz: str) -> dt.datetime:
    """The office's wall-clock reading at the instant `ts`, without a zone (for sheets and mails)."""
    return as_utc(ts).astimezone(office_zone(tz)).replace(tzinfo=None)


def office_time(day: dt.date, hour: int, tz: str) -> dt.datetime:
    """The instant (UTC) at which the office's clock reads `hour` o'clock on `day`."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=office_zone(tz)).astimezone(dt.UTC)
