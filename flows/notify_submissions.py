"""Flow: send every decided submission its receipt or rejection report, once (the outbox pattern)."""

from __future__ import annotations

from prefect import flow

from flows.runtime import load_runtime
from tasks.mail.send import sink_from_settings
from tasks.publish import steps


@flow(name="notify-submissions", retries=0)
def notify_submissions() -> list[str]:
    """Deliver the receipts and rejection reports no mail has been delivered for yet; their .eml paths or answers."""
    rt = load_runtime()
    sink = sink_from_settings(rt.settings)
    sent = steps.notify_submissions(rt.engine, rt.config, rt.settings.paths, sink, rt.settings.mail_from)
    return [d.detail for d in sent]
