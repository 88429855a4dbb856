"""Keep fct_labor_retention in step with the labor files: a load changes its month's counts and the next month's."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from core.month import month_key, shift_month
from warehouse.retention import rebuild_retention


def refresh_retention(conn: Connection, month: str, loaded: tuple[int, Mapping[int, int]] | None = None) -> None:
    """Recompute the retention counts of `month` and of the month after it, inside the caller's (the load's)
    transaction: the month's people changed, and the next month's kept, gone and new are counted against them.
    `loaded`: the file just loaded (submission id, insured people per district), counted by the load itself."""
    keys = [month_key(month), month_key(shift_month(month, 1))]
    rebuild_retention(conn, keys, {(loaded[0], keys[0]): loaded[1]} if loaded else None)
