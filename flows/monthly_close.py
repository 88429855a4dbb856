"""Close a month: ingest what is left in the inbox, wait for those runs, then publish the month and send it."""

from __future__ import annotations

import datetime as dt

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from core.month import Month
from flows.ingest_inbox import ingest_inbox
from flows.publish_month import publish_month
from flows.runtime import load_runtime
from tasks.publish.close import close_markdown, close_month, started_run_ids, wait_for_runs


@flow(name="monthly-close", retries=0, log_prints=True)
def monthly_close(month: str | None = None) -> dict:
    """Publish and send `month` (default: the previous month, Asia/Shanghai) after a last sweep of the inbox."""
    chosen = Month(month) if month else None
    rt = load_runtime()
    month = chosen or close_month(dt.datetime.now(dt.UTC), rt.config.calendar.timezone)
    started = ingest_inbox()
    ingested = wait_for_runs(started_run_ids(started))
    publication = publish_month(month, send=True)
    rejected = sorted(i for i, state in ingested.items() if state != "Completed")
    create_markdown_artifact(
        markdown=close_markdown(month, ingested, publication, rt.settings.ui_url),
        key=f"monthly-close-{month}",
        description=f"what the close of {month} did",
    )
    print(
        f"{month}: {len(started)} file(s) swept ({len(rejected)} not completed), "
        f"published version {publication['version']} to {publication['path']}"
    )
    return {"month": month, "ingested": ingested, "rejected_runs": rejected, "publication": publication}
