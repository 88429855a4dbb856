"""The alert flow e-mails the operators the run's name, parameters, reason and UI link, and records it."""

from __future__ import annotations

import pytest
from prefect import flow
from sqlalchemy import select

from config import Config
from core.errors import FupinError
from flows.notify_failure import notify_failure
from flows.runtime import load_runtime
from warehouse.init import init_warehouse
from warehouse.schema import fct_mail


@flow(name="ingest-file")
def _rejected(path: str) -> None:
    raise FupinError(f"unknown unit 东城 in {path}, cell A1")


@pytest.mark.prefect
def test_operators_get_name_parameters_reason_and_link(prefect_api, fupin_home, smtp_inbox, monkeypatch, cfg: Config):
    monkeypatch.setenv("FUPIN_UI_URL", "http://ui.example:4200")
    rt = load_runtime()
    init_warehouse(rt.engine, rt.config)
    state = _rejected("inbox/东城区_2020-09.xlsx", return_state=True)
    assert state.is_failed()
    run_id = str(state.state_details.flow_run_id)

    link = notify_failure(f"prefect.flow-run.{run_id}")

    assert link == f"http://ui.example:4200/runs/flow-run/{run_id}"
    (message,) = smtp_inbox.messages
    assert set(message["To"].split(", ")) == set(cfg.mail.operators)
    assert "ingest-file" in message["Subject"] and "Failed" in message["Subject"]
    body = message.get_content()
    assert "unknown unit 东城" in body and "cell A1" in body
    assert '"path": "inbox/东城区_2020-09.xlsx"' in body
    assert link in body
    with rt.engine.connect() as conn:
        rows = conn.execute(select(fct_mail.c.kind, fct_mail.c.status)).all()
    assert rows == [("alert", "sent")]
