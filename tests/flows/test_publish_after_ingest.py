"""Publish on top of the real ingest flow: receipts and the rejection's highlighted workbook at the end of each
ingest-file run, then the month's figures."""

from __future__ import annotations

import email
import email.policy
import io
from pathlib import Path

import openpyxl
import pytest

from config import Config
from flows.ingest_file import ingest_file
from flows.notify_submissions import notify_submissions
from flows.publish_month import publish_month
from flows.runtime import load_runtime
from fupin.demo.reports import report_values, write_filled_report
from tasks.publish.forms import FIRST_DATA_ROW, summary_sheet_name
from warehouse.init import init_warehouse

pytestmark = pytest.mark.prefect
MONTH = "2020-09"


def _outbox(home: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((home / "outbox").glob("*.eml"))
    ]


def test_ingested_files_get_their_receipt_or_rejection_once_and_feed_the_publication(
    prefect_api, fupin_home, cfg: Config
) -> None:
    init_warehouse(load_runtime().engine, cfg, months=[MONTH])
    good, bad = cfg.unit("dongcheng"), cfg.unit("xicheng")
    inbox = fupin_home / "inbox"
    ok = write_filled_report(cfg, good, MONTH, inbox / f"{good.name}_{MONTH}.xlsx")
    wrong = write_filled_report(cfg, bad, MONTH, inbox / f"{bad.name}_{MONTH}.xlsx", cells={(10, "合计"): 120})
    assert ingest_file(str(ok), return_state=True).is_completed()
    assert len(_outbox(fupin_home)) == 1, "the receipt goes out at the end of the run"
    assert ingest_file(str(wrong), return_state=True).is_failed()

    assert len(_outbox(fupin_home)) == 2 and notify_submissions() == [], "each sent once: nothing left owed"
    by_to = {m["To"]: m for m in _outbox(fupin_home)}
    assert set(by_to) == {good.email, bad.email}
    assert by_to[good.email]["Subject"].startswith(f"[{MONTH} {good.name}] 【回执】")
    rejection = by_to[bad.email]
    assert "] 【退回】" in rejection["Subject"] and "区级项目开工率" in rejection.get_body().get_content()
    [marked] = [p for p in rejection.iter_attachments() if p.get_filename().endswith("_标注.xlsx")]
    assert marked.get_filename() == f"{bad.name}_{MONTH}_标注.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(marked.get_content())).sheetnames  # opens: the unit can fix it

    result = publish_month(MONTH)

    ws = openpyxl.load_workbook(result["path"])[summary_sheet_name("表1")]
    expected = report_values(cfg, good, MONTH).set_index("row_no")
    assert ws.cell(FIRST_DATA_ROW + 1, 5).value == expected.loc[1, "合计"]  # openpyxl rows are 1-based
    assert ws.cell(FIRST_DATA_ROW + 31, 6).value == pytest.approx(expected.loc[31, "内蒙古"])
    assert "汇总单位: 1/16" in ws["A3"].value
