"""publish_month, notify and remind_late_units as real flow runs: SMTP on 127.0.0.1, the outbox, versions and diffs."""

from __future__ import annotations

import datetime as dt
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
from core.month import Month
from flows.publish_month import publish_month
from flows.remind_late_units import remind_late_units
from flows.runtime import Runtime, load_runtime
from fupin.demo.facts import insert_report, received_on
from fupin.demo.reports import report_values
from tasks.labor.lists import list_path
from tasks.publish.brief import brief_file_name
from tasks.publish.forms import FIRST_DATA_ROW, summary_sheet_name
from tasks.publish.workbook import publication_file_name
from tests.publish_fixture import MISSING, MONTH, REJECTED, load_month, unit_values
from warehouse.init import init_warehouse
from warehouse.schema import fct_mail, fct_publication, fct_submission

pytestmark = pytest.mark.prefect


@pytest.fixture
def month_loaded(fupin_home: Path, cfg: Config, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The month loaded in a real SQLite file and, again, in a real PostgreSQL database."""
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
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

    result = publish_month(MONTH, send=True)

    name = publication_file_name(cfg, MONTH, 1)
    [pub] = [m for m in smtp_inbox.messages if "] 【汇总】" in m["Subject"]]
    assert set(pub["To"].split(", ")) == set(cfg.mail.office) | set(cfg.mail.leaders)
    part, pdf, png = list(pub.iter_attachments())
    assert part.get_filename() == name
    assert [pdf.get_content_type(), png.get_content_type()] == ["application/pdf", "image/png"]
    assert pdf.get_filename() == brief_file_name(cfg, MONTH, 1, "pdf") == Path(result["brief"]).name
    assert pdf.get_content() == Path(result["brief"]).read_bytes() and pdf.get_content()[:5] == b"%PDF-"
    assert png.get_content()[:8] == b"\x89PNG\r\n\x1a\n" and "简报" in pub.get_body().get_content()
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
    [rejection] = [m for m in smtp_inbox.messages if "] 【退回】" in m["Subject"]]
    assert rejection["To"] == cfg.unit(REJECTED).email and "区级项目开工率" in rejection.get_body().get_content()
    assert [p.get_filename() for p in rejection.iter_attachments()] == ["延庆区_2020-09_标注.xlsx", "report.txt"]
    lists = [m for m in smtp_inbox.messages if "] 【名单】" in m["Subject"]]
    [labor] = [m for m in lists if m["To"] == cfg.unit("chaoyang").email]
    assert lists and not any(list(m.iter_attachments()) for m in lists), "a link to the list, never the list"
    assert list_path(labor_dir, MONTH, "朝阳区").is_file(), "the list is written before it is announced"
    assert f"http://127.0.0.1:8000/unit/labor-list?month={MONTH}" in smtp_inbox.text(labor)
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


# -- in-process (flow.fn, no Prefect at all): review states, the cover line, empty months, final, dry runs ----------


@pytest.fixture
def no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Prefect API, and any Prefect API call fails loudly instead of quietly starting a server (what the CLI does
    when no `fupin serve` answers)."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")


def _rows(ws) -> list[tuple]:
    return [r for r in ws.iter_rows(values_only=True)]


def _add_warnings(rt: Runtime, cfg: Config) -> None:
    """Two warnings on counted versions: chaoyang's unexplained, dongcheng's explained."""
    from sqlalchemy import insert

    from tasks.review.explain import explain_warnings
    from warehouse.schema import dim_unit, fct_validation_issue

    with rt.engine.begin() as conn:
        for code in ("chaoyang", "dongcheng"):
            sid = conn.execute(
                select(fct_submission.c.submission_id)
                .join(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key)
                .where(dim_unit.c.unit_code == code, fct_submission.c.is_current.is_(True))
                .where(fct_submission.c.month_key == 202009)
            ).scalar_one()
            conn.execute(
                insert(fct_validation_issue).values(
                    submission_id=sid,
                    severity="warning",
                    rule="ytd_decrease",
                    sheet="表1",
                    cell="E9",
                    row_no=4,
                    region="合计",
                    value="3",
                    message_zh="累计数 3 低于上月的 5",
                    message_en="ytd below",
                    is_open=True,
                )
            )
    explain_warnings(rt.engine, sid, {"表1!E9": "上月多报，已更正"}, "web:dongcheng")


def test_publish_shows_review_states_the_cover_line_and_unexplained_warnings(no_prefect, month_loaded, cfg):
    from tasks.review.actions import approve, return_report

    rt = month_loaded
    approve(rt.engine, "dongcheng", MONTH, "cli:reviewer")
    return_report(rt.engine, "xicheng", MONTH, "cli:reviewer", "表1第3行与上月口径不一致")
    _add_warnings(rt, cfg)

    result = publish_month.fn(MONTH)

    expected = len(cfg.units)
    assert result["missing"] == len(MISSING)
    assert result["cover"].startswith("截至") and result["cover"].endswith(f"已报 {expected - len(MISSING)}/{expected}")
    wb = openpyxl.load_workbook(result["path"])
    cover = [str(c.value) for row in wb["封面"].iter_rows(max_row=5) for c in row if c.value]
    assert any(v.startswith("截至") and f"已报 {expected - len(MISSING)}/{expected} 个单位" in v for v in cover)
    assert wb.sheetnames[0] == "封面", "the cover sheet opens the workbook"
    for form in cfg.forms:
        assert "截至" not in str(wb[summary_sheet_name(form.code)]["A3"].value), "the time stamp is on the cover only"
    status = _rows(wb["报送情况"])
    header = next(i for i, r in enumerate(status) if "审核状态" in r)
    col, name = status[header].index("审核状态"), status[header].index("填报单位")
    states = {r[name]: r[col] for r in status[header + 1 :] if r[name]}
    assert states[cfg.unit("dongcheng").name] == "已审核" and states[cfg.unit("xicheng").name] == "退回"
    assert {states[cfg.unit(c).name] for c in MISSING} == {"未报"} and states[cfg.unit("haidian").name] == "待审"
    problems = _rows(wb["数据问题"])
    assert "未说明 1 条" in problems[0][0]
    by_unit = {r[0]: r for r in problems[2:] if r[0]}
    assert by_unit[cfg.unit("chaoyang").name][8] == "未说明"
    assert by_unit[cfg.unit("dongcheng").name][8:] == ("已说明待确认", "上月多报，已更正")


def test_an_empty_month_is_refused_and_nothing_is_written_or_sent(no_prefect, month_loaded, smtp_inbox, cfg):
    from flows.publish_month import EmptyMonth

    rt = month_loaded
    with pytest.raises(EmptyMonth, match="没有任何已接受的报表") as refused:
        publish_month.fn("2031-01", send=True)
    assert refused.value.exit_code == 1 and "0/" in str(refused.value)
    with rt.engine.connect() as conn:
        assert conn.execute(select(fct_publication)).first() is None
        assert conn.execute(select(fct_mail)).first() is None
    assert smtp_inbox.messages == [] and not (rt.settings.paths.outputs / "2031-01").exists()


def test_the_cli_refuses_an_empty_month_with_exit_1(fupin_home, cfg):
    import os
    import subprocess
    import sys

    init_warehouse(load_runtime().engine, cfg, months=["2020-12"])
    # No PREFECT_API_URL and no `fupin serve`: the command runs in-process (a set address would mean "served").
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false"
    }
    done = subprocess.run(
        [sys.executable, "-m", "fupin.cli", "publish", "--month", "2031-01", "--send"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert "2031-01 没有任何已接受的报表" in done.stderr and "Traceback" not in done.stderr
    assert not list((fupin_home / "outbox").glob("*.eml"))


def test_a_final_publication_locks_the_month_once(no_prefect, month_loaded, cfg):
    import datetime as dt

    from tasks.review.states import LOCKED, unit_reviews
    from warehouse.schema import fct_month_lock

    rt = month_loaded
    result = publish_month.fn(MONTH, final=True, actor="cli:zhang")
    assert result["final"] and result["locked"] == len(cfg.units)
    with rt.engine.connect() as conn:
        lock = conn.execute(select(fct_month_lock)).one()
        pub = conn.execute(select(fct_publication.c.publication_id)).scalar_one()
        states = {r.state for r in unit_reviews(conn, 202009, dt.datetime.now(dt.UTC))}
    assert (lock.locked_by, lock.publication_id, states) == ("cli:zhang", pub, {LOCKED})
    again = publish_month.fn(MONTH, final=True)
    assert (again["version"], again["created"], again["locked"]) == (1, False, 0)


def test_dry_runs_send_and_lock_nothing_and_say_who_would_receive_what(no_prefect, month_loaded, smtp_inbox, cfg):
    from warehouse.schema import fct_month_lock

    rt = month_loaded
    from flows.notify_submissions import notify_submissions

    result = publish_month.fn(MONTH, send=True, final=True, dry_run=True)
    reminded = remind_late_units.fn(MONTH, dry_run=True)
    owed = notify_submissions.fn(dry_run=True)

    time_for_mail = smtp_inbox.wait_for(lambda m: True, timeout=1.0)
    assert time_for_mail == [] and smtp_inbox.messages == []
    with rt.engine.connect() as conn:
        assert conn.execute(select(fct_mail)).first() is None
        assert conn.execute(select(fct_month_lock)).first() is None
    assert result["locked"] == 0 and result["dry_run"]
    receipts = [line for line in result["sent"] if line.startswith("receipt → ")]
    assert len(receipts) == len(cfg.units) * 2 - len(MISSING)  # August and September versions, none sent before
    assert sorted(owed) == sorted(line for line in result["sent"] if not line.startswith("publication"))
    [pub] = [line for line in result["sent"] if line.startswith("publication → ")]
    assert all(a in pub for a in cfg.mail.office) and publication_file_name(cfg, MONTH, 1) in pub
    assert reminded["reminded"] == sorted(MISSING)
    assert all(line.startswith("reminder → ") for line in reminded["sent"])
    assert not any(rt.settings.paths.outbox.glob("*.eml"))


def test_reminders_follow_the_working_day_calendar(no_prefect, month_loaded, cfg):
    rt = month_loaded
    assert remind_late_units.fn(today="2020-09-29")["month"] is None
    moved = remind_late_units.fn(today="2020-09-30")  # 7 October 2020 is in Golden Week
    assert (moved["month"], moved["reminded"]) == (MONTH, sorted(MISSING))
    assert len(list(rt.settings.paths.outbox.glob("*.eml"))) == len(MISSING)
    assert remind_late_units.fn(today="2020-10-07")["month"] is None, "done on the moved day: not again"


def test_a_year_without_a_calendar_fails_the_reminders_and_alerts_the_operators(
    no_prefect, month_loaded, smtp_inbox, cfg
):
    from config.workdays import CalendarGap

    with pytest.raises(CalendarGap):
        remind_late_units.fn(today="2031-01-06")
    [alert] = smtp_inbox.messages
    assert alert["To"] == ", ".join(cfg.mail.operators) and "工作日日历" in alert["Subject"]
    assert "2031" in smtp_inbox.text(alert)
    with month_loaded.engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.kind)).scalars().all() == ["alert"]


def test_the_scheduled_close_acts_only_on_its_working_day(no_prefect, month_loaded, cfg):
    """The schedule stays on the 9th; the close itself decides: the 9th when it is a working day, and a close day that
    a holiday moved earlier still closes on the set day if it has not closed yet."""
    from flows.monthly_close import monthly_close

    assert monthly_close.fn(today="2020-10-08")["month"] is None, "not the close day yet"
    assert cfg.action_day(Month(MONTH), cfg.calendar.close_day) == dt.date(2020, 10, 9)
    closed = monthly_close.fn(today="2020-10-09", wait_minutes=0)
    assert closed["month"] == MONTH and closed["publication"]["version"] == 1


def test_a_machine_without_a_cjk_font_still_publishes_the_workbook(no_prefect, month_loaded, cfg, monkeypatch):
    from tasks.publish import brief as brief_module

    monkeypatch.setattr(brief_module, "CJK_FAMILIES", ("No Such Font",))
    result = publish_month.fn(MONTH)

    assert result["brief"] is None and Path(result["path"]).is_file()
    assert not list(Path(result["path"]).parent.glob("*简报*")), "no half-drawn brief"
