"""Closing a month: which month (the one before today, office time), and waiting for the ingest runs it started."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import cast
from uuid import UUID

from config import Config
from core.clock import office_date
from core.errors import FupinError
from core.month import Month, month_of, reporting_month_for

# How far before its set day an action can move: the longest run of holidays and weekends (Spring Festival, 9 days).
MAX_MOVE_DAYS = 15


def close_month(now: dt.datetime, timezone: str) -> Month:
    """The reporting month being closed at `now` (aware), judged by the office's wall clock in `timezone`."""
    if now.tzinfo is None:
        raise ValueError("close_month needs an aware datetime")
    return reporting_month_for(office_date(now, timezone))


def due_month(cfg: Config, today: dt.date, day: int, done: Callable[[Month], bool]) -> Month | None:
    """The reporting month whose action, set for `day` of the following month, is due `today` (office date): today is
    its day moved to a working day (config.action_day), or a run between that day and the set day finds the action
    not `done` yet (a schedule that fires only on the set day still acts). None: nothing is due today.
    A year no calendar covers raises CalendarGap rather than guess."""
    for month in (reporting_month_for(today), month_of(today)):
        after = month.shift(1)
        nominal = dt.date(after.year, after.mon, day)
        if not 0 <= (nominal - today).days <= MAX_MOVE_DAYS:
            continue
        act = cfg.action_day(month, day)
        if act == today or (act < today and not done(month)):
            return month
    return None


def close_due(cfg: Config, today: dt.date, closed: Callable[[Month], bool]) -> Month | None:
    """The month to close today, if the close day (moved to a working day) has come; for monthly-close."""
    return due_month(cfg, today, cfg.calendar.close_day, closed)


def wait_for_runs(run_ids: list[str], timeout_seconds: float = 3600.0, poll_seconds: float = 2.0) -> dict[str, str]:
    """Wait until every started flow run is final; its state name by id ('Completed', 'Failed', ...)."""
    from prefect.client.orchestration import get_client

    ids = [UUID(i) for i in run_ids]
    deadline = time.monotonic() + timeout_seconds
    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while ids:
            still = []
            for i in ids:
                state = client.read_flow_run(i).state
                if state is not None and state.is_final():
                    # A State names itself after its type; the model still says Optional.
                    states[str(i)] = cast(str, state.name)
                else:
                    still.append(i)
            ids = still
            if ids and time.monotonic() > deadline:
                raise FupinError(
                    f"{len(ids)} ingest run(s) still not finished after {timeout_seconds:.0f} s: "
                    + ", ".join(map(str, ids))
                    + " — is a worker running?"
                )
            if ids:
                time.sleep(poll_seconds)
    return states


def started_run_ids(started: list[str]) -> list[str]:
    """The flow-run ids among what ingest_inbox reports (it reports state names for in-process runs)."""
    out = []
    for item in started:
        try:
            out.append(str(UUID(item)))
        except ValueError:
            continue
    return out


def close_markdown(month: str, ingested: dict[str, str], publication: dict, ui_url: str) -> str:
    """What a close did, for the run's artifact: each ingest run with its state and link, then the publication."""
    lines = [
        f"# 月结 / Monthly close {month}",
        "",
        f"发布 / Published: version {publication['version']}" + ("" if publication["created"] else " (unchanged)"),
        "",
        f"`{publication['path']}`",
        "",
        "| ingest-file run | state |",
        "|---|---|",
    ]
    lines += [
        f"| [{run}]({ui_url.rstrip('/')}/runs/flow-run/{run}) | {state} |" for run, state in sorted(ingested.items())
    ]
    if not ingested:
        lines.append("| (the inbox had no new file) | |")
    return "\n".join(lines)
