"""With a Prefect API (as under `fupin serve`), a web submission is an ingest-file run that operators can retry."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web import workbooks
from tests.web.conftest import MONTH, Platform
from warehouse.schema import fct_submission

pytestmark = pytest.mark.prefect


def test_a_web_submission_shows_as_an_ingest_file_run(
    prefect_api, platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("ingest-file")
        try:
            client.read_deployment_by_name("ingest-file/ingest-file")
        except Exception:  # noqa: BLE001 - not there yet in this session's API: the office's deploy makes it
            client.create_deployment(flow_id=flow_id, name="ingest-file")
    data, _ = workbooks.wrong_total(platform.rt.config, "chaoyang", tmp_path)
    answer = platform.signed_in("cy-clerk").post("/api/submissions", files={"file": ("朝阳区.xlsx", data)})
    assert answer.status_code == 422
    with platform.rt.engine.connect() as conn:
        run_id = conn.execute(
            select(fct_submission.c.flow_run_id).where(fct_submission.c.submission_id == answer.json()["submission_id"])
        ).scalar_one()
    assert run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(uuid.UUID(run_id))
    assert run.name.startswith(f"ingest-file 朝阳区 {MONTH}") and run.deployment_id is not None
    assert run.state is not None and run.state.is_final() and not run.state.is_completed()
    assert "unit:chaoyang" in run.tags
    page = platform.signed_in("office").get(f"/board/units/chaoyang?month={MONTH}").text
    assert f"/runs/flow-run/{run_id}" in page
