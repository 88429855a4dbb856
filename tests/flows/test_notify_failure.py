"""Alerts name the unit and the file, not Prefect's run name; the first goes at once, later ones in the window wait
in the warehouse for one e-mail at the window's end, scheduled once per window; rejections never get here."""

from __future__ import annotations

import datetime as dt

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.states import Crashed, Failed
from sqlalchemy import select, update

from config import Config
from flows.notify_failure import notify_failure
from flows.runtime import load_runtime
from warehouse.init import init_warehouse
from warehouse.schema import fct_alert, fct_mail

pytestmark = [pytest.mark.prefect]
ELEVEN = dt.timedelta(minutes=11)


@flow(name="ingest-file")
def _ingest_file(path: str) -> None:
    """Stands in for the real flow: only its name and the runs' parameters and tags matter here."""


def _failed_run(path: str, state, unit: str | None = "dongcheng", month: str = "2020-09") -> str:
    tags = [f"unit:{unit}", f"month:{month}", "form:report"] if unit else []
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(
            _ingest_file, name="brave-otter", parameters={"path": path}, tags=tags, state=state
        )
    return str(run.id)


def _flushes() -> list:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["notify-failure"]))
        )


@pytest.fixture
def notify_deployment(prefect_api) -> None:
    """The notify-failure deployment `fupin serve` deploys, so a window's end can be scheduled on it."""
    with get_client(sync_client=True) as client:
        client.create_deployment(flow_id=client.create_flow(notify_failure), name="notify-failure")


def test_a_crash_alert_names_the_unit_and_the_file_and_goes_at_once(
    prefect_api, fupin_home, smtp_inbox, monkeypatch, cfg: Config
):
    monkeypatch.setenv("FUPIN_UI_URL", "http://ui.example:4200")
    rt = load_runtime()
    init_warehouse(rt.engine, rt.config)
    run_id = _failed_run("/srv/fupin/inbox/dongcheng/东城区_2020-09.xlsx", Crashed(message="process exited -9"))

    link = notify_failure(f"prefect.flow-run.{run_id}")

    assert link == f"http://ui.example:4200/runs/flow-run/{run_id}"
    (message,) = smtp_inbox.messages
    assert set(message["To"].split(", ")) == set(cfg.mail.operators)
    subject, body = message["Subject"], message.get_content()
    assert "ingest-file Crashed" in subject and "东城区 (dongcheng)" in subject and "东城区_2020-09.xlsx" in subject
    assert "brave-otter" not in subject + body  # Prefect's random name says nothing to an operator
    assert "process exited -9" in body and link in body
    assert '"path": "/srv/fupin/inbox/dongcheng/东城区_2020-09.xlsx"' in body
    with rt.engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.kind, fct_mail.c.status)).all() == [("alert", "sent")]
        (held,) = conn.execute(select(fct_alert)).all()
    assert held.flow_run_id == run_id and held.sent_at is not None and held.state == "Crashed"


def test_alerts_within_ten_minutes_wait_for_one_e_mail_at_the_window_s_end(
    prefect_api, notify_deployment, fupin_home, smtp_inbox, cfg: Config
):
    rt = load_runtime()
    init_warehouse(rt.engine, rt.config)
    first = _failed_run("/in/朝阳区_2020-09.xlsx", Failed(message="KeyError: 'x'"), unit="chaoyang")
    notify_failure(first)
    assert len(smtp_inbox.messages) == 1
    with rt.engine.connect() as conn:
        sent_at = conn.execute(select(fct_alert.c.sent_at)).scalar_one()

    second = _failed_run("/in/海淀区_2020-09.xlsx", Crashed(message="killed"), unit="haidian")
    third = _failed_run("/in/西城区_2020-09.xlsx", Failed(message="bug"), unit="xicheng")
    held = [notify_failure(second), notify_failure(third), notify_failure(third)]  # the trigger may fire twice

    assert len(smtp_inbox.messages) == 1
    assert all(h.startswith("held until ") for h in held)
    (flush,) = _flushes()  # one run per window, however many failures asked for it
    window_end = sent_at.replace(tzinfo=sent_at.tzinfo or dt.UTC) + dt.timedelta(minutes=10)
    assert flush.state.is_scheduled() and abs(flush.state.state_details.scheduled_time - window_end) < dt.timedelta(
        seconds=1
    )
    assert flush.parameters.get("flow_run_id") is None
    with rt.engine.connect() as conn:
        waiting = conn.execute(select(fct_alert.c.flow_run_id).where(fct_alert.c.sent_at.is_(None))).scalars().all()
    assert sorted(waiting) == sorted([second, third])

    with rt.engine.begin() as conn:  # the window ends
        conn.execute(update(fct_alert).where(fct_alert.c.sent_at.is_not(None)).values(sent_at=sent_at - ELEVEN))
    assert notify_failure() == "2 alerts sent"

    grouped = smtp_inbox.messages[1]
    body = grouped.get_content()
    assert "2 runs failed or crashed" in grouped["Subject"]
    assert "海淀区 (haidian)" in body and "西城区 (xicheng)" in body and "killed" in body and "bug" in body
    assert "朝阳区" not in body  # sent before, never twice
    assert notify_failure() == "nothing waiting"
    assert len(smtp_inbox.messages) == 2 and len(_flushes()) == 1  # an empty window schedules nothing
