"""Flow: ingest one month of the HR bureau's labor records, from archived file to warehouse (the district lists
are written on demand: `fupin labor-lists`)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.labor_steps import LaborRejected, ingest_labor_steps, pii_key
from flows.runtime import in_flow_run
from tasks.labor.read import LaborFileError
from tasks.runs.states import final_state, quiet_rejections

__all__ = ["LaborRejected", "ingest_labor", "pii_key"]


@flow(name="ingest-labor", retries=0, log_prints=False, persist_result=False)
def ingest_labor(path: str, month: str, max_invalid_ratio: float = 0.0, source: str | None = None) -> Any:
    """Archive, read, validate, key and load one labor file; reject it whole if too many rows are invalid. Person data
    stays in this process: no result is persisted, and every error names a row and column, never a value.
    `source` says where it came from (cli:<user>, web:<account>; default cli:<the OS user running the flow>).
    In a run, a rejected file ends it Failed (named Rejected) with a one-line message, not a traceback."""
    quiet_rejections()
    try:
        return ingest_labor_steps(path, month, max_invalid_ratio, source)
    except (LaborRejected, LaborFileError) as exc:
        if not in_flow_run():
            raise
        return final_state("rejected", str(exc).splitlines()[0])
