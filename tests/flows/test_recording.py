"""Files ingested in one process: their receipts go out and the caller goes on (the close publishes) while their
ingest-file runs are still being recorded; Recording.finish() waits for the runs and links each submission to its
run. Against the session's real Prefect API and real SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Config
from flows.intake import begin_ingest
from flows.runtime import Runtime, load_runtime
from fupin.demo.reports import write_filled_report
from tests.flows.conftest import SmtpInbox
from warehouse.init import init_warehouse
from warehouse.schema import fct_submission

pytestmark = pytest.mark.prefect
MONTH = "2020-09"


@pytest.fixture
def rt(prefect_api, fupin_home: Path, smtp_inbox: SmtpInbox, cfg: Config) -> Iterator[Runtime]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.create_deployment(flow_id=client.create_flow_from_name("ingest-file"), name="ingest-file")
    runtime = load_runtime()
    init_warehouse(runtime.engine, cfg, months=[MONTH])
    yield runtime
    runtime.engine.dispose()


def test_receipts_go_before_the_runs_are_awaited_and_finish_links_every_file_to_its_run(
    rt: Runtime, smtp_inbox: SmtpInbox, cfg: Config, tmp_path: Path
) -> None:
    units = [cfg.unit(code) for code in ("dongcheng", "xicheng", "chaoyang")]
    paths = [write_filled_report(cfg, unit, MONTH, tmp_path / f"{unit.code}.xlsx") for unit in units]
    paths.append(write_filled_report(cfg, units[0], "2020-10", tmp_path / "bad.xlsx", cells={(10, "合计"): 120}))

    recording = begin_ingest(rt, paths, record=True)

    assert len(smtp_inbox.messages) == 4, "each file's receipt or rejection is out before the runs are awaited"
    done = recording.finish()
    assert recording.finish() is done, "finishing twice waits once"
    assert sorted(o.status for o in done) == ["accepted"] * 3 + ["rejected"]
    assert all(o.run_id for o in done), [o.message for o in done]
    with rt.engine.connect() as conn:
        linked = dict(conn.execute(select(fct_submission.c.submission_id, fct_submission.c.flow_run_id)).all())
    assert linked == {o.submission_id: o.run_id for o in done}
