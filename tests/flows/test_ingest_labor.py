"""The ingest_labor flow on a real Prefect API: reject too many invalid rows whole, then accept on a re-run."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from sqlalchemy import text

from config import Config
from core.errors import UsageError
from core.settings import Settings
from flows.ingest_labor import ingest_labor
from flows.labor_steps import SECRET_BLOCK, pii_key
from fupin import cli
from fupin.demo.labor import Noise, generate_labor, write_xlsx
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

pytestmark = pytest.mark.prefect


@pytest.fixture
def warehouse(fupin_home: Path, cfg: Config):
    engine = make_engine(Settings.from_env().warehouse_url)
    init_warehouse(engine, cfg)
    yield engine
    engine.dispose()


def _artifact(flow_run_id, key: str) -> str:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
        )
    return "\n".join(str(a.data) for a in found)


def test_rejected_whole_then_accepted_on_rerun_with_a_higher_ratio(prefect_api, fupin_home, warehouse, cfg) -> None:
    people = generate_labor(
        cfg,
        {"朝阳区": 12, "海淀区": 6},
        {("河北省", "张家口市", "蔚县"): 2},
        Noise(invalid_ids=2, duplicates=1),
        seed=4,
    )
    path = write_xlsx(people, fupin_home / "人社局_2020年7月.xlsx", title="建档立卡贫困劳动力在京就业情况")

    state = ingest_labor(path=str(path), month="2020-07", return_state=True)
    assert state.is_failed() and "rejected" in state.message
    with warehouse.connect() as conn:
        assert conn.execute(text("SELECT status, n_errors FROM fct_submission")).all() == [("rejected", 2)]
        assert conn.execute(text("SELECT count(*) FROM restricted_labor_person")).scalar_one() == 0
    report = _artifact(state.state_details.flow_run_id, "labor-invalid-rows")
    assert "id_checksum" in report and "********" in report
    assert not [i for i in people["公民身份号码"] if i in report or i[:14] in report]

    result = ingest_labor(path=str(path), month="2020-07", max_invalid_ratio=0.1)
    assert result["central_western"] == 18 and result["excluded_rows"] == 2 and result["repeated"] == 1
    with warehouse.connect() as conn:
        subs = conn.execute(text("SELECT status, version, is_current FROM fct_submission")).all()
        assert subs == [("accepted", 1, 1)]
        assert conn.execute(text("SELECT count(*) FROM fct_labor_invalid_row")).scalar_one() == 2
        assert dict(conn.execute(text("SELECT district, persons FROM v_labor_by_district")).all()) == {
            "朝阳区": 12,
            "海淀区": 6,
        }
    with get_client(sync_client=True) as client:
        run = LogFilterFlowRunId(any_=[state.state_details.flow_run_id])
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=run))
    assert logs and not [i for i in people["公民身份号码"] if any(i in log.message for log in logs)]
    archived = list((fupin_home / "archive").rglob("*.xlsx"))
    assert len(archived) == 1 and stat.S_IMODE(archived[0].stat().st_mode) == 0o400
    assert not (fupin_home / "outputs" / "2020-07" / "labor").exists(), "lists are written on demand, not at load"


def test_cli_without_a_warehouse_says_run_init_in_one_line(prefect_api, fupin_home, cfg, monkeypatch, capsys) -> None:
    path = write_xlsx(generate_labor(cfg, {"延庆区": 2}, {}, seed=9), fupin_home / "l.xlsx")
    monkeypatch.setattr(sys, "argv", ["fupin", "labor", str(path), "--month", "2020-07"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err
    assert exit_.value.code == 3 and "fupin init" in err and "Traceback" not in err


def test_cli_exit_codes_usage_2_rejected_1_success_0(prefect_api, fupin_home, warehouse, cfg, monkeypatch, capsys):
    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["fupin", "labor", *args])
        with pytest.raises(SystemExit) as exit_:
            cli.main()
        return exit_.value.code

    path = write_xlsx(generate_labor(cfg, {"延庆区": 3}, {}, Noise(invalid_ids=1), seed=9), fupin_home / "l.xlsx")
    assert run(str(path), "--month", "2020-13") == 2
    assert run(str(path), "--month", "2020-07") == 1
    assert "rejected" in capsys.readouterr().err
    assert run(str(path), "--month", "2020-07", "--max-invalid-ratio", "0.5") == 0


def test_pii_key_comes_from_the_environment_a_key_file_else_the_prefect_secret_block(
    prefect_api, monkeypatch, tmp_path
) -> None:
    from prefect.blocks.system import Secret

    env_key, block_key = "e" * 32, "b" * 40
    assert pii_key(Settings.from_env({"FUPIN_PII_KEY": env_key})) == env_key.encode()
    key_file = tmp_path / "pii.key"
    key_file.write_text("f" * 64 + "\n", encoding="ascii")
    assert pii_key(Settings.from_env({"FUPIN_PII_KEY_FILE": str(key_file)})) == b"f" * 64
    Secret(value=block_key).save(SECRET_BLOCK, overwrite=True)
    try:
        assert pii_key(Settings.from_env({})) == block_key.encode()
        Secret(value="short").save(SECRET_BLOCK, overwrite=True)
        with pytest.raises(UsageError, match="at least 32"):
            pii_key(Settings.from_env({}))
    finally:
        Secret.delete(SECRET_BLOCK)
    with pytest.raises(UsageError, match="FUPIN_PII_KEY_FILE"):
        pii_key(Settings.from_env({}))
    with pytest.raises(UsageError, match="at least 32"):
        pii_key(Settings.from_env({"FUPIN_PII_KEY": "short"}))
    key_file.write_text("0123456789abcdef0123456789abcde\n", encoding="ascii")  # 31 bytes once the newline is off
    with pytest.raises(UsageError, match="holds 31 bytes"):
        pii_key(Settings.from_env({"FUPIN_PII_KEY_FILE": str(key_file)}))
    with pytest.raises(UsageError, match="cannot read"):
        pii_key(Settings.from_env({"FUPIN_PII_KEY_FILE": str(tmp_path / "missing.key")}))
    with pytest.raises(UsageError, match="not both"):
        pii_key(Settings.from_env({"FUPIN_PII_KEY": env_key, "FUPIN_PII_KEY_FILE": str(key_file)}))
