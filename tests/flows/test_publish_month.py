"""publish_month, notify and remind_late_units as real flow runs: SMTP on 127.0.0.1, the outbox, versions and diffs."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import stat
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from config import Config
from flows.publish_month import publish_month
from flows.remind_late_units import remind_late_units
from flows.runtime import Runtime, load_runtime
from fupin.demo.facts import insert_report, received_on
from fupin.demo.reports import report_values
from tasks.publish.forms import FIRST_DATA_ROW, summary_sheet_name
from tasks.publish.workbook import publication_file_name
from tests.publish_fixture import MISSING, MONTH, REJECTED, load_month, unit_values
from warehouse.init import init_warehouse
from warehouse.schema import fct_mail, fct_publication, fct_submission

pytestmark = pytest.mark.prefect


@pytest.fixture
def month_loaded(fupin_home: Path, cfg: Config) -> Runtime:
    rt = load_runtime()
    init_warehouse(rt.engine, cfg, months=["2020-12"])
    load_month(rt.engine, cfg)
    return rt


def _quarantine_rejected(rt: Runtime) -> str:
    """What the ingest flow leaves for a rejected file: report.txt and the highlighted workbook."""
    with rt.engine.connect() as conn:
        sha = conn.execute(select(fct_submission.c.sha256).where(fct_submission.c.status == "rejected")).scalar_one()
    folder = rt.settings.paths.quarantine / sha[:16]
    folder.mkdir(parents=True)
    (folder / "report.txt").write_text("表1!F14 序号10 区级项目开工率: 120 超出 0–100", encoding="utf-8")
    (folder / "延庆区_2020-09_标注.xlsx").write_bytes(b"PK\x03\x04highlighted")
    return sha


def test_publish_sends_the_workbook_whose_figures_match_the_warehouse(prefect_api, month_loaded, smtp_inbox, cfg):
    rt = month_loaded
    _quarantine_rejected(rt)
    labor_dir = rt.settings.paths.outputs / MONTH / "labor"
    labor_dir.mkdir(parents=True)
    (labor_dir / f"朝阳区_{MONTH}_名单.xlsx").write_bytes(b"PK\x03\x04chaoyang")

    result = publish_month(MONTH, send=True)

    name = publication_file_name(cfg, MONTH, 1)
    [pub] = [m for m in smtp_inbox.messages if m["Subject"].startswith("【汇总】")]
    assert set(pub["To"].split(", ")) == set(cfg.mail.office) | set(cfg.mail.leaders)
    [part] = list(pub.iter_attachments())
    assert part.get_filename() == name
    data = part.get_content()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[summary_sheet_name("表1")]
    for row_no, col, column in ((31, 5, "合计"), (33, 7, "河北"), (1, 6, "内蒙古")):
        assert ws.cell(FIRST_DATA_ROW + row_no, col).value == pytest.approx(
            sum(unit_values(rt.engine, "表1", row_no, column, MONTH).values())
        )
    with rt.engine.connect() as conn:
        row = conn.execute(select(fct_publication)).one()
        kinds = conn.execute(select(fct_mail.c.kind, fct_mail.c.recipients, fct_mail.c.status)).all()
        accepted = conn.execute(
            select(fct_submission.c.submission_id).where(
                fct_submission.c.status == "accepted", fct_submission.c.kind == "report"
            )
        ).all()
    assert row.version == 1 and row.sha256 == hashlib.sha256(data).hexdigest() == result["sha256"]
    used = json.loads(row.submission_ids)
    assert used == sorted(used) and len(used) == len(cfg.units) - len(MISSING) + 1  # reports + the labor file
    assert Path(result["path"]).name == name and not Path(result["path"]).stat().st_mode & stat.S_IWUSR
    assert sum(k == "receipt" for k, _, _ in kinds) == len(accepted)
    [rejection] = [m for m in smtp_inbox.messages if m["Subject"].startswith("【退回】")]
    assert rejection["To"] == cfg.unit(REJECTED).email and "区级项目开工率" in rejection.get_body().get_content()
    assert [p.get_filename() for p in rejection.iter_attachments()] == ["延庆区_2020-09_标注.xlsx", "report.txt"]
    [labor] = [m for m in smtp_inbox.messages if m["Subject"].startswith("【名单】")]
    assert labor["To"] == cfg.unit("chaoyang").email
    assert all(s == "sent" for _, _, s in kinds)

    before = len(smtp_inbox.messages)
    again = publish_month(MONTH, send=True)
    assert again["version"] == 1 and not again["created"] and len(smtp_inbox.messages) == before


def test_republishing_after_a_late_correction_gives_version_2_and_a_diff_sheet(prefect_api, month_loaded, cfg):
    rt = month_loaded
    first = publish_month(MONTH)
    unit = cfg.unit("dongcheng")
    values = report_values(cfg, unit, MONTH)
    values.loc[values["row_no"] == 1, ["合计", "内蒙古"]] += 100
    with rt.engine.begin() as conn:
        insert_report(conn, cfg, unit, MONTH, received_on(cfg, cfg.deadline(MONTH)).replace(day=20), values=values)

    second = publish_month(MONTH)

    assert (first["version"], second["version"]) == (1, 2) and second["created"]
    assert Path(first["path"]).is_file() and Path(first["path"]) != Path(second["path"])
    wb = openpyxl.load_workbook(second["path"])
    changes = [r for r in wb["变更"].iter_rows(min_row=3, values_only=True)]
    summary = {(r[0], r[1]): r for r in changes if r[0] == summary_sheet_name("表1")}
    total = summary[("表1 汇总", f"E{FIRST_DATA_ROW + 1}")]
    assert "区级领导调研对接人次" in total[2] and total[3] == "合计"
    assert float(total[5]) - float(total[4]) == pytest.approx(100)
    assert ("表1 汇总", f"F{FIRST_DATA_ROW + 1}") in summary
    assert any(r[0] == "表1 明细" for r in changes) and any(r[0] == "报送情况" for r in changes)
    assert not any(r[0] == "表2 汇总" for r in changes)


def test_reminders_go_only_to_units_without_an_accepted_report(prefect_api, month_loaded, cfg):
    rt = month_loaded
    result = remind_late_units(MONTH)

    assert result["reminded"] == sorted(MISSING)
    emls = sorted(rt.settings.paths.outbox.glob("*.eml"))
    assert sorted(str(p) for p in emls) == sorted(result["sent"])
    to = {email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["To"] for p in emls}
    assert to == {cfg.unit(code).email for code in MISSING}
    assert remind_late_units(MONTH)["reminded"] == []  # not twice the same day
