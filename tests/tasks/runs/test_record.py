"""Files ingested in one process are recorded as ingest-file runs in their final state, each with its log line; the
log lines go to the API together when the recorder closes, not one request a file."""

from __future__ import annotations

import uuid

import pytest

from tasks.runs.record import LOG_BATCH, RunRecorder, RunSpec

pytestmark = pytest.mark.prefect


@pytest.fixture
def deployment(prefect_api) -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("ingest-file")
        name = f"record-{uuid.uuid4().hex[:8]}"
        client.create_deployment(flow_id=flow_id, name=name)
    return f"ingest-file/{name}"


def _spec(n: int, status: str) -> RunSpec:
    return RunSpec(
        name=f"ingest-file test {n}.xlsx",
        tags=["unit:chaoyang"],
        parameters={"path": f"/nowhere/{n}.xlsx", "source": None},
        status=status,
        message=f"file {n}: {status}",
        idempotency_key=f"test-record:{uuid.uuid4().hex}",
    )


def test_each_run_gets_its_log_line_all_sent_in_batches_when_the_recorder_closes(deployment: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    specs = [_spec(n, "accepted" if n % 3 else "rejected") for n in range(LOG_BATCH + 5)]
    with RunRecorder(deployment) as recorder:
        ids = [recorder.record(spec) for spec in specs]
        with get_client(sync_client=True) as client:
            sent_early = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids[:5])))
    assert not sent_early, "log lines wait for the recorder to close"

    with get_client(sync_client=True) as client:
        runs = {
            str(r.id): r
            for start in range(0, len(ids), 200)
            for r in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids[start : start + 200]))
            )
        }
        logs: list = []
        while batch := client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)), limit=200, offset=len(logs)
        ):
            logs += batch
    assert len(runs) == len(specs)
    by_run = {str(log.flow_run_id): log.message for log in logs}
    assert by_run == {run_id: spec.message for run_id, spec in zip(ids, specs, strict=True)}
    assert {runs[i].state.name for i in ids} == {"Completed", "Rejected"}
