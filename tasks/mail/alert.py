"""The operators' alert on a failed or crashed run: what ran, with which parameters, why it stopped, where to look."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import cast
from uuid import UUID

from prefect import task
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType

from core.month import is_month
from core.retry import transient_retries
from tasks.mail.send import Mail

RUN_PREFIX = "prefect.flow-run."
FAILURES = (StateType.FAILED, StateType.CRASHED)


@dataclass(frozen=True)
class FailedRun:
    """What the operators need to know about one run."""

    id: str
    name: str
    flow_name: str
    deployment: str | None
    state: str
    reason: str
    parameters: dict = field(default_factory=dict)


def run_id(flow_run_id: str) -> UUID:
    """A flow-run id, also when given as the event resource 'prefect.flow-run.<id>'."""
    return UUID(flow_run_id.removeprefix(RUN_PREFIX))


@task(**transient_retries(), persist_result=False)
def read_failed_run(flow_run_id: str) -> FailedRun:
    """Read the run, its flow and its deployment from the Prefect API."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id(flow_run_id))
        flow = client.read_flow(run.flow_id)
        deployment = client.read_deployment(run.deployment_id).name if run.deployment_id else None
        # The run may have moved on (an operator already pressed Retry): report its latest failure, not its state now.
        states = client.read_flow_run_states(run.id)
    failures = sorted((s for s in states if s.type in FAILURES), key=lambda s: s.timestamp)
    state = failures[-1] if failures else run.state
    return FailedRun(
        id=str(run.id),
        name=run.name,
        flow_name=flow.name,
        deployment=deployment,
        # A State names itself after its type; the model still says Optional.
        state=cast(str, state.name) if state else "Unknown",
        reason=(state.message if state else None) or "(no message)",
        parameters=dict(run.parameters or {}),
    )


def run_link(ui_url: str, flow_run: FailedRun) -> str:
    return f"{ui_url.rstrip('/')}/runs/flow-run/{flow_run.id}"


def alert_mail(flow_run: FailedRun, ui_url: str, operators: tuple[str, ...]) -> Mail:
    """The alert e-mail, in Chinese and English, to every operator."""
    what = flow_run.deployment or flow_run.flow_name
    params = json.dumps(flow_run.parameters, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    body = "\n".join(
        [
            f"运行失败 / Run {flow_run.state}: {what} — {flow_run.name}",
            "",
            f"原因 / Reason: {flow_run.reason}",
            "",
            "参数 / Parameters:",
            params,
            "",
            f"查看与重试 / Open and retry: {run_link(ui_url, flow_run)}",
            "",
            "修正文件或配置后，在界面上点 Retry 重新运行（见 docs/operations.md）。",
            "After the unit re-sends or the config is fixed, press Retry on the run in the UI (docs/operations.md).",
        ]
    )
    month = flow_run.parameters.get("month")
    if not is_month(month):
        month = None
    return Mail(
        kind="alert",
        to=tuple(operators),
        subject=f"[fupin] {what} {flow_run.state}: {flow_run.name}",
        body=body,
        month=month,
    )
