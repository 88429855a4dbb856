"""Files ingested in one process still get a run each: an ingest-file deployment run created in its final state,
named and tagged, with its rejection as an artifact and a log line, so the UI shows it and can retry it."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from core.retry import call_with_retries
from tasks.runs.states import final_state

INGEST_DEPLOYMENT = "ingest-file/ingest-file"


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


class RunRecorder:
    """Creates runs of one deployment on a Prefect API through one client; use as a context manager."""

    def __init__(self, deployment: str = INGEST_DEPLOYMENT) -> None:
        from prefect.client.orchestration import get_client

        self._client = get_client(sync_client=True)
        self.deployment = deployment
        self.deployment_id: Any = None

    def __enter__(self) -> RunRecorder:
        self._client.__enter__()
        deployment = call_with_retries(self._client.read_deployment_by_name, self.deployment)
        self.deployment_id = deployment.id
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.__exit__(*exc)

    def record(self, spec: RunSpec) -> str:
        """Create the run in its final state (idempotent on the key), attach the artifact and the log line."""
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
            timestamp=dt.datetime.now(dt.UTC),
            flow_run_id=run.id,
        )
        call_with_retries(self._client.create_logs, [log])
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
