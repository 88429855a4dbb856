"""`fupin publish` and `fupin remind` from the command line: exit codes, one-line errors, where the workbook is."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from config import Config
from flows.runtime import load_runtime
from fupin.cli import app
from tests.publish_fixture import MISSING, MONTH, load_month
from warehouse.init import init_warehouse

runner = CliRunner()


def test_a_bad_month_is_a_one_line_usage_error(fupin_home) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fupin.cli", "publish", "--month", "2020-13"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "month must look like 2020-09" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.prefect
def test_publish_prints_where_the_workbook_is_and_send_writes_the_outbox(prefect_api, fupin_home, cfg: Config) -> None:
    rt = load_runtime()
    init_warehouse(rt.engine, cfg, months=["2020-12"])
    load_month(rt.engine, cfg)
    result = runner.invoke(app, ["publish", "--month", MONTH, "--send"])
    assert result.exit_code == 0, result.output
    assert f"{MONTH} v1 (new version)" in result.output and "_汇总_2020-09_v1.xlsx" in result.output
    assert "outbox" in result.output and any(rt.settings.paths.outbox.glob("*.eml"))


def test_publish_and_remind_dry_runs_print_who_would_receive_what(fupin_home, cfg: Config, monkeypatch) -> None:
    """In-process (no Prefect API): an incomplete month says what is missing; the dry runs write no .eml at all."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    rt = load_runtime()
    init_warehouse(rt.engine, cfg, months=["2020-12"])
    load_month(rt.engine, cfg)
    result = runner.invoke(app, ["publish", "--month", MONTH, "--send", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"已报 {len(cfg.units) - len(MISSING)}/{len(cfg.units)}" in result.output and "截至" in result.output
    assert f"{len(MISSING)} 个单位尚未报送" in result.output
    assert "would send: publication → " in result.output and "未发送任何邮件" in result.output
    reminded = runner.invoke(app, ["remind", "--month", MONTH, "--dry-run"])
    assert reminded.exit_code == 0, reminded.output
    assert f"would remind {len(MISSING)} unit(s)" in reminded.output
    assert not rt.settings.paths.outbox.exists() or not any(rt.settings.paths.outbox.iterdir())
