"""Files ingested in one process still get a run each: an ingest-file deployment run created in its final state,
named and tagged, with its rejection as an artifact and a log line, so the UI shows it and can retry it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from core.retry import call_with_retries
from tasks.runs.states import final_state

INGEST_DEPLOYMENT = "ingest-file/ingest-file"
LOG_BATCH = 200


@dataclass(frozen=True)
class RunSpec:
    """Everything a recorded run shows: name, tags, parameters (for a retry), final status, one-line message,
    and an optional markdown artifact."""

    name: str
    tags: list[str]
    parameters: dict[str, Any]
    status: str
    message: str
    idempotency_key: str
    artifact_key: str | None = None
    artifact_markdown: str | None = None
    artifact_description: str | None = None


def now() -> Any:
    """Now, as the DateTime type Prefect's schemas declare."""
    from prefect.types._datetime import now as prefect_now

    return prefect_now("UTC")


class RunRecorder:
    """Creates runs of one deployment on a Prefect API through one client; use as a context manager."""

    def __init__(self, deployment: str = INGEST_DEPLOYMENT) -> None:
        from prefect.client.orchestration import get_client

        self._client = get_client(sync_client=True)
        self.deployment = deployment
        self.deployment_id: Any = None
        self._logs: list[Any] = []

    def __enter__(self) -> RunRecorder:
        self._client.__enter__()
        deployment = call_with_retries(self._client.read_deployment_by_name, self.deployment)
        self.deployment_id = deployment.id
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.flush_logs()
        finally:
            self._client.__exit__(*exc)

    def flush_logs(self) -> None:
        """Send the runs' log lines kept so far, LOG_BATCH at a time: one request for a sweep, not one a file
        (each is a write on the server, which shares the machine with the sweep). A failure is logged, not raised:
        the runs and their states are there."""
        batches, self._logs = self._logs, []
        for start in range(0, len(batches), LOG_BATCH):
            try:
                call_with_retries(self._client.create_logs, batches[start : start + LOG_BATCH])
            except Exception as exc:  # noqa: BLE001 - the runs exist; only their log lines are missing
                logging.getLogger("fupin").warning("runs' log lines not sent (%s)", type(exc).__name__)
                return

    def record(self, spec: RunSpec) -> str:
        """Create the run in its final state (idempotent on the key) and attach the artifact; its log line goes with
        the others when the recorder closes (flush_logs)."""
        from prefect.client.schemas.actions import ArtifactCreate, LogCreate

        run = call_with_retries(
            self._client.create_flow_run_from_deployment,
            self.deployment_id,
            parameters=spec.parameters,
            name=spec.name,
            tags=spec.tags,
            state=final_state(spec.status, spec.message),
            idempotency_key=spec.idempotency_key,
        )
        level = logging.INFO if spec.status in ("accepted", "duplicate") else logging.WARNING
        log = LogCreate(
            name="fupin.ingest",
            level=level,
            message=spec.message,
            timestamp=now(),
            flow_run_id=run.id,
        )
        self._logs.append(log)
        if spec.artifact_markdown is not None:
            artifact = ArtifactCreate(
                key=spec.artifact_key,
                type="markdown",
                data=spec.artifact_markdown,
                description=spec.artifact_description,
                flow_run_id=run.id,
            )
            call_with_retries(self._client.create_artifact, artifact)
        return str(run.id)
