"""Flow: send every decided submission its receipt or rejection report, and every return its e-mail, once (the
outbox pattern). Each ingest sends its own files' mail at once; this catches up what is still owed (a send that
failed, an ingest stopped before it mailed)."""

from __future__ import annotations

from prefect import flow

from flows.runtime import load_runtime
from tasks.mail.send import sink_from_settings
from tasks.publish import steps


@flow(name="notify-submissions", retries=0)
def notify_submissions(dry_run: bool = False) -> list[str]:
    """Deliver the receipts, rejection reports and returns no mail has been delivered for yet; their .eml paths or
    answers (a dry run: who would receive what)."""
    rt = load_runtime()
    sink = None if dry_run else sink_from_settings(rt.settings)
    sent = steps.notify_submissions(rt.engine, rt.config, rt.settings.paths, sink, rt.settings.mail_from, dry_run)
    return [d.detail for d in sent]
