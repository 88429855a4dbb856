"""Number a newly accepted file among its unit-month's versions, in received order, one loader at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, update

from warehouse.schema import dim_unit, fct_submission


@dataclass(frozen=True)
class Version:
    """The new file's version, whether it is now current, and the submission that was current before it."""

    number: int
    is_current: bool
    replaced: int | None


def lock_unit(conn: Connection, unit_key: int | None) -> None:
    """Hold the unit's row until commit, so a second load for the unit waits and then sees the first one's rows.

    PostgreSQL needs it (READ COMMITTED lets two loads number the same version); SQLite's BEGIN IMMEDIATE already
    serialises writers, where FOR UPDATE is a no-op.
    """
    if unit_key is not None:
        conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_key == unit_key).with_for_update()).all()


def next_version(
    conn: Connection, kind: str, unit_key: int | None, month_key: int | None, received_at: dt.datetime
) -> Version:
    """Version by received order (a later-received file loaded first is renumbered after this one); the latest
    received is the one current version. Call under lock_unit, before this file's row is marked accepted."""
    s = fct_submission
    same = (s.c.kind == kind, s.c.unit_key == unit_key, s.c.month_key == month_key, s.c.status == "accepted")
    later = (*same, s.c.received_at > received_at)
    number = conn.execute(select(func.count()).where(*same, s.c.received_at <= received_at)).scalar_one() + 1
    conn.execute(update(s).where(*later).values(version=s.c.version + 1))
    if conn.execute(select(func.count()).where(*later)).scalar_one():
        return Version(number, False, None)
    replaced = conn.execute(select(s.c.submission_id).where(*same, s.c.is_current)).scalar()
    conn.execute(update(s).where(*same).values(is_current=False))
    return Version(number, True, replaced)


def in_received_order(received: Sequence[dt.datetime]) -> list[Version]:
    """next_version for files written in bulk: each accepted file of one unit-month numbered by received order, the
    latest received the current one (nothing stored is replaced)."""
    order = sorted(range(len(received)), key=received.__getitem__)
    out: dict[int, Version] = {i: Version(n, n == len(received), None) for n, i in enumerate(order, start=1)}
    return [out[i] for i in range(len(received))]
