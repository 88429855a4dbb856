"""Hostile HR exports through the real ingest_labor flow and Prefect API: a parse error never carries a name or an
identity number anywhere (exception, states, logs, stderr, FUPIN_HOME/logs, the warehouse), and the file is recorded
as rejected at its row; a NUL in a name and a full-width twin are handled the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
from sqlalchemy import Engine, text

from fupin import cli
from fupin.demo import bad_files_labor

pytestmark = pytest.mark.prefect
MONTH = "2020-09"


def _needles(cfg) -> list[str]:
    people = bad_files_labor._people(cfg)
    ids = people[cfg.labor.columns["id_number"][0]]
    return [*people[cfg.labor.columns["name"][0]], *ids, *ids.str[:14]]


def _stored_by_prefect(flow_run_id) -> str:
    """The flow run's and its task runs' states (name, message, data) and every log line, read back from the API."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        states = [
            *client.read_flow_run_states(flow_run_id),
            *(s for t in tasks for s in client.read_task_run_states(t.id)),
        ]
    parts = [str(run.parameters), *(f"{s.name} {s.message} {s.data!r}" for s in states), *(log.message for log in logs)]
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("maker", "name", "rule", "where"),
    [
        (bad_files_labor.unquoted_comma, "labor_unquoted_comma.csv", "csv_field_count", "row 7"),
        (bad_files_labor.id_typed_as_error, "labor_id_error_cell.xlsx", "error_cell", "row 5, cell D5"),
    ],
)
def test_a_parse_error_is_located_and_redacted_everywhere(
    maker,
    name,
    rule,
    where,
    cfg,
    prefect_api,
    fupin_home: Path,
    home_engine: Engine,
    tmp_path: Path,
    capfd,
    monkeypatch,
) -> None:
    from flows.ingest_labor import ingest_labor

    path = maker(cfg, tmp_path / name)
    state = ingest_labor(str(path), MONTH, return_state=True)
    assert state.is_failed() and where in state.message and name in state.message
    with pytest.raises(Exception) as raised:
        state.result()
    monkeypatch.setattr(sys, "argv", ["fupin", "labor", str(path), "--month", MONTH])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    out, err = capfd.readouterr()
    with home_engine.connect() as conn:
        status, message = conn.execute(text("SELECT status, message FROM fct_submission")).one()
        issues = conn.execute(text("SELECT rule, message_en FROM fct_validation_issue")).all()
    assert status == "rejected" and where in message and [i.rule for i in issues] == [rule]
    logs = "".join(p.read_text(errors="replace") for p in (fupin_home / "logs").rglob("*") if p.is_file())
    seen = "\n".join(
        [
            str(raised.value),
            repr(raised.value),
            _stored_by_prefect(state.state_details.flow_run_id),
            out,
            err,
            logs,
            message,
            *(i.message_en for i in issues),
        ]
    )
    assert where in err
    leaked = [n for n in _needles(cfg) if n in seen]
    assert not leaked, f"{len(leaked)} names or numbers leaked"


def test_a_nul_in_a_name_is_excluded_and_a_full_width_twin_counted_once_on_both_databases(
    cfg, prefect_api, fupin_home: Path, warehouse_url: str, engine: Engine, tmp_path: Path, monkeypatch
) -> None:
    from flows.ingest_labor import ingest_labor

    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
    nul = ingest_labor(str(bad_files_labor.nul_in_name(cfg, tmp_path / "nul.csv")), "2020-08", max_invalid_ratio=0.1)
    assert nul["excluded_rows"] == 1 and nul["persons"] == 39
    twin = ingest_labor(str(bad_files_labor.full_width_twin(cfg, tmp_path / "twin.csv")), MONTH)
    assert twin["excluded_rows"] == 0 and twin["repeated"] == 1 and twin["persons"] == 40
    with engine.connect() as conn:
        rule, value = conn.execute(text("SELECT rule, value_masked FROM fct_labor_invalid_row")).one()
        listed = conn.execute(
            text(
                "SELECT count(*) FROM restricted_labor_person p "
                "JOIN fct_submission s ON s.submission_id = p.submission_id "
                "WHERE s.month_key = 202009"
            )
        ).scalar_one()
    assert (rule, value) == ("control_character", "") and listed == 40
