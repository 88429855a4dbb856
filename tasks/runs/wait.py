"""The ingest-file runs a close depends on: wait until none is pending, retrying crashed ones a bounded number of
times, and say which are still open when time runs out."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from core.retry import call_with_retries
from tasks.runs.record import INGEST_DEPLOYMENT

OPEN_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING")
CRASHED = "CRASHED"
MAX_RUNS = 2  # a crashed run is started again until it has run this many times
LOOKBACK = dt.timedelta(days=45)


@dataclass(frozen=True)
class FileRun:
    """One ingest-file run as the close sees it."""

    id: str
    name: str
    state_type: str
    state_name: str
    unit_code: str | None
    month: str | None
    run_count: int

    @property
    def is_open(self) -> bool:
        return self.state_type in OPEN_TYPES

    @property
    def is_crashed(self) -> bool:
        return self.state_type == CRASHED


def _tag(tags: list[str], prefix: str) -> str | None:
    return next((t.removeprefix(prefix) for t in tags if t.startswith(prefix)), None)


def _file_run(run: Any) -> FileRun:
    return FileRun(
        id=str(run.id),
        name=run.name,
        state_type=run.state.type.value if run.state else "PENDING",
        state_name=(run.state.name if run.state else None) or "",
        unit_code=_tag(run.tags or [], "unit:"),
        month=_tag(run.tags or [], "month:"),
        run_count=run.run_count or 0,
    )


def file_runs(client: Any, month: str, now: dt.datetime) -> list[FileRun]:
    """Open or crashed ingest-file runs that may hold a file of `month`: tagged with it, or not tagged yet."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    deployment = call_with_retries(client.read_deployment_by_name, INGEST_DEPLOYMENT)
    only = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
    found: dict[str, FileRun] = {}
    for types, since in ((OPEN_TYPES, None), ((CRASHED,), now - LOOKBACK)):
        state = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(t) for t in types]))
        flt = FlowRunFilter(state=state)
        if since is not None:
            flt = FlowRunFilter(state=state, start_time=FlowRunFilterStartTime(after_=since))
        offset = 0
        while True:
            page = call_with_retries(
                client.read_flow_runs, flow_run_filter=flt, deployment_filter=only, limit=200, offset=offset
            )
            for run in page:
                fr = _file_run(run)
                if fr.month in (None, month):
                    found[fr.id] = fr
            if len(page) < 200:
                break
            offset += 200
    return list(found.values())


def retry_run(client: Any, run_id: str) -> None:
    """Start a crashed run again, as the UI's Retry does."""
    from uuid import UUID

    from prefect.states import AwaitingRetry

    call_with_retries(client.set_flow_run_state, UUID(run_id), AwaitingRetry(), force=True)


def settle_file_runs(month: str, timeout_seconds: float, poll_seconds: float = 2.0) -> list[FileRun]:
    """Wait until no ingest-file run of `month` is open, starting crashed runs again while they have run fewer than
    MAX_RUNS times; what is still open or crashed at the end is returned (empty: the month's files are settled)."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout_seconds
    retried: set[tuple[str, int]] = set()  # (run, how many times it had run) — each crash is retried once
    with get_client(sync_client=True) as client:
        while True:
            runs = file_runs(client, month, dt.datetime.now(dt.UTC))
            again = [r for r in runs if r.is_crashed and r.run_count < MAX_RUNS and (r.id, r.run_count) not in retried]
            for run in again:
                retry_run(client, run.id)
                retried.add((run.id, run.run_count))
            if (not again and not any(r.is_open for r in runs)) or time.monotonic() > deadline:
                return [r for r in runs if r.is_open or r.is_crashed]
            time.sleep(poll_seconds)
