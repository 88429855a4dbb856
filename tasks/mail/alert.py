"""The operators' alert on a failed or crashed run: which file and unit, why it stopped, where to look and retry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast
from uuid import UUID

from config import Config
from core.month import is_month
from tasks.intake.received import name_of, param_path
from tasks.mail.send import Mail

RUN_PREFIX = "prefect.flow-run."
NOTIFY_DEPLOYMENT = "notify-failure/notify-failure"


@dataclass(frozen=True)
class FailedRun:
    """What the operators need to know about one run's failure."""

    id: str
    name: str
    flow_name: str
    deployment: str | None
    state: str
    reason: str
    failure_id: str
    failed_at: dt.datetime
    parameters: dict = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    """One failure as it waits in the warehouse for its e-mail."""

    failure_id: str
    flow_run_id: str
    deployment: str
    state: str
    about: str
    reason: str
    parameters: str
    link: str
    failed_at: dt.datetime


def run_id(flow_run_id: str) -> UUID:
    """A flow-run id, also when given as the event resource 'prefect.flow-run.<id>'."""
    return UUID(flow_run_id.removeprefix(RUN_PREFIX))


def read_failed_run(flow_run_id: str) -> FailedRun:
    """Read the run, its flow, its deployment and its latest failure from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id(flow_run_id))
        flow = client.read_flow(run.flow_id)
        deployment = client.read_deployment(run.deployment_id).name if run.deployment_id else None
        # The run may have moved on (an operator already pressed Retry): report its latest failure, not its state now.
        states = client.read_flow_run_states(run.id)
    failures = sorted((s for s in states if s.type in (StateType.FAILED, StateType.CRASHED)), key=lambda s: s.timestamp)
    state = failures[-1] if failures else run.state
    return FailedRun(
        id=str(run.id),
        name=run.name,
        flow_name=flow.name,
        deployment=deployment,
        # A State names itself after its type; the model still says Optional.
        state=cast(str, state.name) if state else "Unknown",
        reason=(state.message if state else None) or "(no message)",
        failure_id=str(state.id) if state else str(run.id),
        failed_at=state.timestamp if state else dt.datetime.now(dt.UTC),
        parameters=dict(run.parameters or {}),
        tags=tuple(run.tags or ()),
    )


def _tag(tags: Sequence[str], key: str) -> str | None:
    return next((t.split(":", 1)[1] for t in tags if t.startswith(f"{key}:")), None)


def about(run: FailedRun, config: Config) -> str:
    """What the run was about, from its tags and parameters: unit, month, file; its name only when those say nothing."""
    parts = []
    code = _tag(run.tags, "unit")
    if code:
        unit = next((u for u in config.units if u.code == code), None)
        parts.append(f"{unit.name} ({code})" if unit else code)
    month = _tag(run.tags, "month") or run.parameters.get("month")
    if is_month(month):
        parts.append(str(month))
    path = run.parameters.get("path")
    if isinstance(path, str) and path:
        parts.append(name_of(param_path(path)))
    return " · ".join(parts) or run.name


def run_link(ui_url: str, flow_run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


def alert_of(run: FailedRun, config: Config, ui_url: str) -> Alert:
    """The run's failure, ready to wait for its e-mail."""
    return Alert(
        failure_id=run.failure_id,
        flow_run_id=run.id,
        deployment=run.deployment or run.flow_name,
        state=run.state,
        about=about(run, config),
        reason=run.reason,
        parameters=json.dumps(run.parameters, ensure_ascii=False, indent=2, sort_keys=True, default=str),
        link=run_link(ui_url, run.id),
        failed_at=run.failed_at,
    )


def _block(alert: Alert) -> list[str]:
    return [
        f"运行失败 / Run {alert.state}: {alert.deployment} — {alert.about}",
        f"原因 / Reason: {alert.reason}",
        "参数 / Parameters:",
        alert.parameters,
        f"查看与重试 / Open and retry: {alert.link}",
        "",
    ]


def alerts_mail(alerts: Sequence[Alert], operators: tuple[str, ...]) -> Mail:
    """One e-mail, in Chinese and English, to every operator, for every failure that waited in the window."""
    first = alerts[0]
    if len(alerts) == 1:
        subject = f"[fupin] {first.deployment} {first.state}: {first.about}"
    else:
        kinds = ", ".join(sorted({a.deployment for a in alerts}))
        subject = f"[fupin] {len(alerts)} 个运行失败 / {len(alerts)} runs failed or crashed: {kinds}"
    body = [line for alert in alerts for line in _block(alert)] + [
        "修正文件或配置后，在界面上点 Retry 重新运行（见 docs/operations.md）。",
        "After the unit re-sends or the config is fixed, press Retry on the run in the UI (docs/operations.md).",
    ]
    months = {json.loads(a.parameters).get("month") for a in alerts}
    month = months.pop() if len(months) == 1 else None
    return Mail(
        kind="alert",
        to=tuple(operators),
        subject=subject,
        body="\n".join(body),
        month=month if is_month(month) else None,
    )


def schedule_flush(due: dt.datetime) -> str | None:
    """A notify-failure run at the end of the window, one per window whoever asks (its idempotency key); None
    when the notify-failure deployment does not exist (no `fupin serve`: the next alert takes the waiting ones)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Scheduled

    stamp = due.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(NOTIFY_DEPLOYMENT)
        except ObjectNotFound:
            return None
        run = client.create_flow_run_from_deployment(
            deployment.id,
            state=Scheduled(scheduled_time=due),
            name=f"notify-failure window {stamp}",
            idempotency_key=f"notify-failure-window-{stamp}",
        )
    return str(run.id)
