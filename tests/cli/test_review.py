"""`fupin review …`, `fupin lock` and `fupin reopen` on a real warehouse with real files: the returned unit gets the
reason in its e-mail and on the first sheet of its own workbook, warnings are explained and judged, the month locks."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from config import Config
from config.layout import LAYOUT
from flows.runtime import Runtime, load_runtime
from fupin.cli import app
from fupin.demo.facts import received_on
from tasks.review.states import ReviewRefused
from tests.flows.conftest import SmtpInbox
from tests.flows.conftest import _running_inbox as running_inbox
from tests.review_fixture import load_file, plain_row, total_of, write_report
from warehouse.init import init_warehouse
from warehouse.schema import fct_mail

runner = CliRunner()


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpInbox]:
    """The flows' real SMTP server on 127.0.0.1; FUPIN_SMTP_HOST/PORT point at it."""
    for inbox in running_inbox():
        monkeypatch.setenv("FUPIN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("FUPIN_SMTP_PORT", str(inbox.port))
        yield inbox


MONTH = "2020-09"
REASON = "表3第2行与上月口径不一致，请核实"


@pytest.fixture
def reported(
    fupin_home: Path, cfg: Config, tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Runtime, str, str]:
    """hotan's August and September, September with a year-to-date decrease (one warning); archived under the home;
    on a real SQLite file and on a real PostgreSQL database."""
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
    rt = load_runtime()
    init_warehouse(rt.engine, cfg, months=["2020-12"])
    unit = cfg.units_of_form("表3")[0]
    row = plain_row(cfg.form("表3"))
    files = [
        (write_report(cfg, unit, "2020-08", tmp_path, "aug.xlsx"), dt.date(2020, 9, 8)),
        (
            write_report(cfg, unit, MONTH, tmp_path, "sep.xlsx", {row: total_of(cfg, unit, "2020-08", row) - 1}),
            dt.date(2020, 10, 8),
        ),
    ]
    (rt.settings.paths.archive).mkdir(parents=True, exist_ok=True)
    for path, day in files:
        shutil.copy(path, rt.settings.paths.home / "archive" / path.name)
        load_file(rt.engine, cfg, path, received_on(cfg, day))
    return rt, unit.code, f"表3!E{LAYOUT.first_data_row + row - 1}"


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_return_reaches_the_unit_with_its_reason_and_annotated_workbook(reported, smtp_inbox, cfg: Config) -> None:
    rt, unit, cell = reported
    listed = _ok(["review", "list", "--month", MONTH])
    assert "待审" in listed and cell in listed and "未说明" in listed

    out = _ok(["review", "return", unit, "--month", MONTH, "--reason", REASON])
    assert "待审 → 退回" in out and REASON in out
    [mail] = smtp_inbox.wait_for(lambda m: "] 【审核退回】" in m["Subject"])
    assert mail["To"] == cfg.unit(unit).email and REASON in smtp_inbox.text(mail)
    [part] = list(mail.iter_attachments())
    wb = openpyxl.load_workbook(io.BytesIO(part.get_content()))
    first = wb.worksheets[0]
    assert first.title == "退回原因" and first["B7"].value == REASON
    form = wb["表3"]
    assert LAYOUT.remark in [c.value for c in form[LAYOUT.header_row]]
    assert form[cell.split("!")[1]].comment is not None, "the warned cell carries its warning"
    with rt.engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.kind).where(fct_mail.c.kind == "return")).scalars().all() == ["return"]

    # Returned once: a second return is refused; the mail is not sent twice.
    refused = runner.invoke(app, ["review", "return", unit, "--month", MONTH, "--reason", "again"])
    assert isinstance(refused.exception, ReviewRefused) and len(smtp_inbox.messages) == 1
    assert "退回" in _ok(["review", "list", "--month", MONTH, "--history"])


def test_a_return_needs_a_reason(reported) -> None:
    _, unit, _ = reported
    missing = runner.invoke(app, ["review", "return", unit, "--month", MONTH])
    assert missing.exit_code == 2 and "--reason" in missing.output
    blank = runner.invoke(app, ["review", "return", unit, "--month", MONTH, "--reason", " "])
    assert isinstance(blank.exception, ReviewRefused) and "退回必须注明原因" in str(blank.exception)


def test_explain_accept_approve_lock_and_reopen(reported, cfg: Config) -> None:
    _, unit, cell = reported
    _ok(["review", "explain", unit, "--month", MONTH, "--cell", cell, "--text", "上月多报"])
    _ok(["review", "accept", unit, "--month", MONTH, "--cell", cell])
    listed = _ok(["review", "list", "--month", MONTH])
    assert "说明已接受" not in listed, "accepted warnings are not listed as open"
    assert "审核通过" not in listed
    _ok(["review", "approve", cfg.unit(unit).name, "--month", MONTH])  # by name as well as code
    assert f"已锁定 / locked: {len(cfg.units)}" in _ok(["lock", "--month", MONTH])
    assert "已锁定" in _ok(["review", "list", "--month", MONTH])
    out = _ok(["reopen", unit, "--month", MONTH, "--reason", "和田更正第2行", "--days", "2"])
    assert "已锁定 → 已审核" in out and "和田更正第2行" in out


def test_a_refused_move_is_exit_1_in_one_line(reported) -> None:
    _, unit, _ = reported
    _ok(["review", "approve", unit, "--month", MONTH])
    done = subprocess.run(
        [sys.executable, "-m", "fupin.cli", "review", "approve", unit, "--month", MONTH],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "已审核" in done.stderr and "Traceback" not in done.stderr
    unknown = runner.invoke(app, ["review", "approve", "nowhere", "--month", MONTH])
    assert getattr(unknown.exception, "exit_code", None) == 2
