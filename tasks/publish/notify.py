"""Which messages are owed (the outbox pattern: derived from the warehouse, never from memory) and their text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path

from sqlalchemy import Engine, and_, exists, or_, select

from config import Config, Unit
from core.clock import office_date
from core.month import month_key
from tasks.intake.provenance import source_folder
from tasks.mail.send import TEXT_MIME, XLSX_MIME, Attachment, Mail, subject_line
from warehouse.schema import dim_month, dim_unit, fct_mail, fct_submission

DELIVERED = ("sent", "written")
FILE_MIMES = {".pdf": "application/pdf", ".png": "image/png", ".xlsx": XLSX_MIME}
PLATFORM_OFF = "off"  # FUPIN_WEB_URL=off: no platform to link to; the lists go attached, encrypted
LABOR_LIST_ROUTE = "/unit/labor-list"  # the platform's download (fupin/web/unit.py); a test checks both agree


def pending_submissions(engine: Engine, submission_ids: Collection[int] | None = None) -> list[dict]:
    """Report submissions decided (accepted or rejected) that no delivered receipt or rejection mail points at; only
    those of `submission_ids` when given (an ingest's own files). The same rejected bytes handed in again are not
    owed a second rejection: the unit has the report for exactly these bytes already."""
    if submission_ids is not None and not submission_ids:
        return []
    s, earlier = fct_submission, fct_submission.alias("earlier")
    delivered = exists().where(
        fct_mail.c.submission_id == s.c.submission_id,
        fct_mail.c.kind.in_(("receipt", "rejection")),
        fct_mail.c.status.in_(DELIVERED),
    )
    told = exists().where(
        earlier.c.sha256 == s.c.sha256,
        earlier.c.submission_id != s.c.submission_id,
        fct_mail.c.submission_id == earlier.c.submission_id,
        fct_mail.c.kind == "rejection",
        fct_mail.c.status.in_(DELIVERED),
    )
    query = (
        select(
            s.c.submission_id,
            s.c.sha256,
            s.c.original_name,
            s.c.status,
            s.c.version,
            s.c.is_late,
            s.c.n_errors,
            s.c.n_warnings,
            s.c.received_at,
            s.c.message,
            s.c.source,
            dim_unit.c.unit_code,
            dim_month.c.month,
        )
        .select_from(
            s.outerjoin(dim_unit, dim_unit.c.unit_key == s.c.unit_key).outerjoin(
                dim_month, dim_month.c.month_key == s.c.month_key
            )
        )
        .where(s.c.kind == "report", s.c.status.in_(("accepted", "rejected")), ~delivered)
        .where(or_(s.c.status == "accepted", ~told))
        .order_by(s.c.submission_id)
    )
    if submission_ids is not None:
        query = query.where(s.c.submission_id.in_(sorted(set(submission_ids))))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _replaced(version: int) -> str:
    """The receipt's warning that this file replaced the unit's earlier version; empty for a first version."""
    if version <= 1:
        return ""
    return (
        f"\n新版本已替换第{version - 1}版 / a new version replaced version {version - 1}\n"
        "如果这份文件不是贵单位报送的，请立即与办公室联系。/ If your unit did not send this file, "
        "tell the office at once.\n"
    )


def receipt(cfg: Config, sub: dict) -> Mail:
    """The unit's receipt for an accepted file: version counted, what it replaced, where it came from, lateness
    and warnings."""
    unit = cfg.unit(sub["unit_code"])
    late = "（逾期报送）" if sub["is_late"] else ""
    version = sub["version"]
    replaced = f"，已替换第{version - 1}版" if version > 1 else ""
    body = (
        f"{unit.name}：\n\n贵单位报送的《{sub['original_name']}》已通过校验并入库{late}。\n"
        f"月份：{sub['month']}　版本：第{version}版　警告：{sub['n_warnings']}条\n"
        f"来源 / source：{sub.get('source') or '—'}\n{_replaced(version)}"
        f"如有警告，请核实后如需更正可重新报送，以最新版本为准。\n\n北京市扶贫支援办"
    )
    return Mail(
        "receipt",
        (unit.email,),
        subject_line(sub["month"], unit.name, f"【回执】报表已接收（第{version}版{replaced}）{late}"),
        body,
        month=sub["month"],
        unit_code=unit.code,
        submission_id=sub["submission_id"],
    )


def _sender(cfg: Config, sub: dict) -> Unit | None:
    """Who sent the file: the unit whose inbox folder it came from, else the unit it names, else nobody known."""
    code = source_folder(sub.get("source")) or sub["unit_code"]
    return next((u for u in cfg.units if u.code == code), None)


def rejection(cfg: Config, sub: dict, quarantine: Path) -> Mail:
    """The rejection report and the highlighted workbook, from quarantine/<sha256[:16]>/, to the unit (or operators)."""
    folder = quarantine / sub["sha256"][:16]
    report = folder / "report.txt"
    text = report.read_text(encoding="utf-8") if report.is_file() else (sub["message"] or "")
    attachments = [Attachment(p.name, p.read_bytes(), XLSX_MIME) for p in sorted(folder.glob("*_标注.xlsx"))]
    if report.is_file():
        attachments.append(Attachment(report.name, report.read_bytes(), TEXT_MIME))
    unit = _sender(cfg, sub)
    to = (unit.email,) if unit else tuple(cfg.mail.operators)
    who = unit.name if unit else "（未能识别填报单位）"
    body = (
        f"{who}：\n\n贵单位报送的《{sub['original_name']}》未通过校验，共 {sub['n_errors']} 处错误，未入库。\n"
        f"请按以下说明及附件中标注的单元格修改后重新报送。\n\n{text}\n\n北京市扶贫支援办"
    )
    return Mail(
        "rejection",
        to,
        subject_line(sub["month"], who, f"【退回】报表未通过校验：{sub['original_name']}"),
        body,
        tuple(attachments),
        month=sub["month"],
        unit_code=unit.code if unit else None,
        submission_id=sub["submission_id"],
    )


def units_without_report(engine: Engine, cfg: Config, month: str) -> list[Unit]:
    """Units with no accepted report for `month`, in the office's order."""
    s = fct_submission
    query = (
        select(dim_unit.c.unit_code)
        .select_from(s.join(dim_unit, dim_unit.c.unit_key == s.c.unit_key))
        .where(s.c.kind == "report", s.c.status == "accepted", s.c.month_key == month_key(month))
    )
    with engine.connect() as conn:
        reported = set(conn.execute(query).scalars())
    return [u for u in cfg.units if u.code not in reported]


def reminded_today(engine: Engine, cfg: Config, month: str, today: dt.date) -> set[str]:
    """Units already reminded about `month` on `today` (office time), so a rerun does not remind twice."""
    query = (
        select(dim_unit.c.unit_code, fct_mail.c.sent_at)
        .select_from(fct_mail.join(dim_unit, dim_unit.c.unit_key == fct_mail.c.unit_key))
        .where(
            fct_mail.c.kind == "reminder", fct_mail.c.month_key == month_key(month), fct_mail.c.status.in_(DELIVERED)
        )
    )
    with engine.connect() as conn:
        return {code for code, at in conn.execute(query) if office_date(at, cfg.calendar.timezone) == today}


def reminder(cfg: Config, unit: Unit, month: str) -> Mail:
    deadline = cfg.deadline(month)
    body = (
        f"{unit.name}：\n\n截至目前尚未收到贵单位{month}月份的《{cfg.report_title}》（{unit.form_code}）。\n"
        f"请于{deadline.month}月{deadline.day}日前报送。如已报送但被退回，请按退回说明修改后重新报送。\n\n北京市扶贫支援办"
    )
    return Mail(
        "reminder",
        (unit.email,),
        subject_line(month, unit.name, f"【提醒】请于{deadline.month}月{deadline.day}日前报送{month}月报表"),
        body,
        month=month,
        unit_code=unit.code,
    )


def labor_lists(cfg: Config, month: str, folder: Path) -> list[tuple[Unit, Path]]:
    """Each district's labor list file in outputs/YYYY-MM/labor/, matched by the district's name or code in its name."""
    out = []
    for path in sorted(folder.glob("*.xlsx")) if folder.is_dir() else []:
        matches = [d for d in cfg.districts if d.name in path.stem or d.code in path.stem.lower().split("_")]
        if len(matches) == 1:
            out.append((matches[0], path))
    return out


def labor_list_sent(engine: Engine, month: str) -> set[str]:
    """Districts whose labor list for `month` has been delivered."""
    query = (
        select(dim_unit.c.unit_code)
        .select_from(fct_mail.join(dim_unit, dim_unit.c.unit_key == fct_mail.c.unit_key))
        .where(
            and_(
                fct_mail.c.kind == "labor_list",
                fct_mail.c.month_key == month_key(month),
                fct_mail.c.status.in_(DELIVERED),
            )
        )
    )
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def platform_off(web_url: str) -> bool:
    """FUPIN_WEB_URL=off (any case): there is no platform to link to."""
    return web_url.strip().lower() == PLATFORM_OFF


def labor_list_link(web_url: str, month: str) -> str:
    """Where a district clerk downloads the month's list on the platform, behind sign-in."""
    return f"{web_url.rstrip('/')}{LABOR_LIST_ROUTE}?month={month}"


def labor_list(unit: Unit, month: str, web_url: str) -> Mail:
    """The district's list is ready: a link to the platform, never the list itself (it names people)."""
    link = labor_list_link(web_url, month)
    body = (
        f"{unit.name}：\n\n人社局记录中{month}月在贵区就业的建档立卡贫困劳动力名单已生成，请登录填报平台下载：\n"
        f"{link}\n\n名单仅供贵区使用，含个人信息，请妥善保管，勿转发。本邮件不附名单。\n\n"
        f"The {month} list of registered poor laborers working in your district is ready. Sign in to the platform "
        f"to download it (link above); it is not attached to this e-mail.\n\n北京市扶贫支援办"
    )
    return Mail(
        "labor_list",
        (unit.email,),
        subject_line(month, unit.name, "【名单】在京就业贫困劳动力名单已生成，请登录平台下载"),
        body,
        month=month,
        unit_code=unit.code,
    )


def locked_labor_list(unit: Unit, month: str, list_name: str, encrypted: bytes) -> Mail:
    """The platform is off: the district's list goes attached, encrypted; its password is given by telephone."""
    body = (
        f"{unit.name}：\n\n附件为人社局记录中{month}月在贵区就业的建档立卡贫困劳动力名单（已加密）。"
        "打开密码由北京市扶贫支援办另行电话告知，不通过邮件发送；如未收到请致电办公室。\n\n"
        "名单仅供贵区使用，含个人信息，请妥善保管，勿转发，勿将密码写入邮件。\n\n"
        f"The {month} list of registered poor laborers working in your district is attached, encrypted. The office "
        "gives you its password by telephone, never by e-mail.\n\n北京市扶贫支援办"
    )
    return Mail(
        "labor_list",
        (unit.email,),
        subject_line(month, unit.name, "【名单】在京就业贫困劳动力名单（加密附件，密码电话告知）"),
        body,
        (Attachment(list_name, encrypted),),
        month=month,
        unit_code=unit.code,
    )


def publication(
    cfg: Config,
    month: str,
    version: int,
    path: Path,
    publication_id: int,
    summary: str,
    brief: Sequence[Path] = (),
) -> Mail:
    """The consolidated workbook, and the one-page brief (PDF, PNG) for the 调度会 when it was written."""
    recipients = tuple(dict.fromkeys((*cfg.mail.office, *cfg.mail.leaders)))
    with_brief = "及一页简报（PDF、PNG，供调度会使用）" if brief else ""
    body = (
        f"各位领导、综合处：\n\n附件为{month}月《{cfg.report_title}》汇总（第{version}版）{with_brief}。"
        f"\n\n{summary}\n\n北京市扶贫支援办"
    )
    files = (Attachment(path.name, path.read_bytes()),) + tuple(
        Attachment(p.name, p.read_bytes(), FILE_MIMES[p.suffix]) for p in brief
    )
    return Mail(
        "publication",
        recipients,
        subject_line(month, "全市汇总", f"【汇总】{cfg.report_title} 第{version}版"),
        body,
        files,
        month=month,
        publication_id=publication_id,
    )


def reminded(engine: Engine, month: str) -> bool:
    """Whether any reminder about `month` has been delivered (a run that finds its day passed catches up only once)."""
    query = select(
        exists().where(
            fct_mail.c.kind == "reminder", fct_mail.c.month_key == month_key(month), fct_mail.c.status.in_(DELIVERED)
        )
    )
    with engine.connect() as conn:
        return bool(conn.execute(query).scalar())


def calendar_alert(cfg: Config, what: str, problem: str) -> Mail:
    """Tell the operators a scheduled action could not decide its day, instead of guessing."""
    body = (
        f"{what} 未执行：无法判断今天是否为工作日。\n\n{problem}\n\n"
        "请在 config/calendar.yaml 的 working_days 中声明该年的节假日安排（declared_years、days_off、days_on），"
        f"或升级 chinesecalendar，然后重新运行。\n\n{what} did not run: the working-day calendar has a gap."
    )
    return Mail("alert", tuple(cfg.mail.operators), f"【告警】{what} 未执行：工作日日历缺少数据", body)
