"""What a running ingest-file run says about itself: its name and tags once known, and whether it ran before."""

from __future__ import annotations

from core.retry import call_with_retries

FAILED_TYPES = ("FAILED", "CRASHED")


def show_run(run_id: str, name: str, tags: list[str]) -> None:
    """Rename the run and add its tags (the deployment's tags kept)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = call_with_retries(client.read_flow_run, UUID(run_id))
        merged = sorted({*(run.tags or []), *tags})
        call_with_retries(client.update_flow_run, UUID(run_id), name=name, tags=merged)


def earlier_failure(run_id: str) -> str | None:
    """The name of the last failed or crashed state this run passed through before now (a retry), else None."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        states = call_with_retries(client.read_flow_run_states, UUID(run_id))
    failed = [s for s in states if s.type.value in FAILED_TYPES]
    return failed[-1].name if failed else None
