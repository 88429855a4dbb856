"""Sweep the inbox: ingest every new file in this one run, and give each file its own ingest-file run to retry."""

from __future__ import annotations

from prefect import flow

from flows.intake import sweep_inbox
from flows.runtime import load_runtime


@flow(name="ingest-inbox", log_prints=True, persist_result=False)
def ingest_inbox() -> dict:
    """Ingest the inbox's new files in-process (no fresh interpreter per file); each accepted, rejected or crashed
    file is recorded as its own ingest-file run, named and tagged, which the UI can retry."""
    rt = load_runtime()
    sweep = sweep_inbox(rt)
    counts: dict[str, int] = {}
    for outcome in sweep.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        print(outcome.message)
    if sweep.refused:
        counts["refused"] = counts.get("refused", 0) + len(sweep.refused)
    print(f"inbox: {len(sweep.outcomes)} new file(s) {counts or ''}; {len(sweep.settled)} known file(s) moved")
    return {"counts": counts, "files": [o.summary() for o in sweep.outcomes]}
