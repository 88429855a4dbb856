"""A returned report goes back to its unit: the reason in the e-mail and on the first sheet of its own workbook, with
the warnings highlighted and a 备注 column where each 说明 can be written (the outbox pattern: owed until delivered)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import Engine, exists, select

from config import Config
from config.layout import LAYOUT
from contracts.messages import Issue
from tasks.mail.send import Attachment, Mail, subject_line
from tasks.review.explain import STATUS_LABELS, WarningView, warnings_of
from warehouse.schema import dim_month, dim_unit, fct_mail, fct_review_transition, fct_submission

DELIVERED = ("sent", "written")
RETURN_SHEET = "退回原因"
PRIVATE_MODE = 0o600


def pending_returns(engine: Engine) -> list[dict]:
    """Return transitions whose e-mail to the unit has not been delivered yet."""
    t, s = fct_review_transition, fct_submission
    delivered = exists().where(
        fct_mail.c.submission_id == t.c.submission_id, fct_mail.c.kind == "return", fct_mail.c.status.in_(DELIVERED)
    )
    query = (
        select(
            t.c.transition_id,
            t.c.submission_id,
            t.c.actor,
            t.c.acted_at,
            t.c.reason,
            dim_unit.c.unit_code,
            dim_month.c.month,
            s.c.version,
            s.c.original_name,
            s.c.archive_path,
        )
        .join(dim_unit, dim_unit.c.unit_key == t.c.unit_key)
        .join(dim_month, dim_month.c.month_key == t.c.month_key)
        .join(s, s.c.submission_id == t.c.submission_id)
        .where(t.c.action == "return", ~delivered)
        .order_by(t.c.transition_id)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _as_issue(w: WarningView, file: str) -> Issue:
    note = f"\n说明（{STATUS_LABELS[w.status]}）：{w.explanation}" if w.explanation else ""
    return Issue("warning", w.rule, file, w.sheet, w.cell, w.row_no, None, w.region, w.value, w.message_zh + note, "")


def returned_workbook(data: bytes, name: str, ret: dict, unit_name: str, warnings: list[WarningView]) -> bytes:
    """The unit's own workbook: a first sheet with the reason, the warned cells highlighted, a 备注 column added."""
    from tasks.intake.highlight import highlight

    marked = highlight(data, os.path.splitext(name)[1], [_as_issue(w, name) for w in warnings])
    wb = load_workbook(io.BytesIO(marked))
    for sheet in {w.sheet for w in warnings if w.sheet in wb.sheetnames}:
        ws = wb[sheet]
        header = [c.value for c in ws[LAYOUT.header_row]]
        if LAYOUT.remark not in header:
            ws.cell(LAYOUT.header_row, len(header) + 1, LAYOUT.remark)
    ws = wb.create_sheet(RETURN_SHEET, 0)
    rows = [
        ["审核退回 / Returned by the office"],
        ["填报单位", unit_name],
        ["月份", ret["month"]],
        ["版本", f"第{ret['version']}版"],
        ["退回时间", f"{ret['acted_at']:%Y-%m-%d %H:%M} UTC"],
        ["审核人", ret["actor"]],
        ["退回原因 / reason", ret["reason"]],
        [],
        ["请按退回原因修改；对每条警告，请在该行“备注”列写明说明，然后重新报送。"],
        ["Fix what the reason says; explain each warning in its row's 备注 column, then send the file again."],
    ]
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # the reason is text, never a formula
    ws["A1"].font = Font(bold=True, size=14)
    ws["B7"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 80
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def return_mail(cfg: Config, ret: dict, home: Path, out_dir: Path, warnings: list[WarningView]) -> Mail:
    """The unit's e-mail for a return, with its annotated workbook (kept under outputs/MONTH/returns/)."""
    unit = cfg.unit(ret["unit_code"])
    data = (home / ret["archive_path"]).read_bytes()
    stem = os.path.splitext(ret["original_name"])[0]
    file_name = f"{stem}_退回.xlsx"
    book = returned_workbook(data, ret["original_name"], ret, unit.name, warnings)
    out_dir.mkdir(parents=True, exist_ok=True)
    kept = out_dir / f"{ret['submission_id']}_{file_name}"
    kept.write_bytes(book)
    kept.chmod(PRIVATE_MODE)
    open_ones = [w for w in warnings if w.unexplained]
    body = (
        f"{unit.name}：\n\n贵单位报送的《{ret['original_name']}》（{ret['month']} 第{ret['version']}版）"
        "经审核退回。\n\n"
        f"退回原因：{ret['reason']}\n审核人：{ret['actor']}\n\n"
        f"尚需说明的警告：{len(open_ones)} 条（见附件“{RETURN_SHEET}”之后的标注）。\n"
        f"请修改后重新报送；对每条警告可在该行“备注”列写明说明。\n\n"
        f"Returned by the office: {ret['reason']}\n\n北京市扶贫支援办"
    )
    return Mail(
        "return",
        (unit.email,),
        subject_line(ret["month"], unit.name, f"【审核退回】第{ret['version']}版：请按原因修改后重新报送"),
        body,
        (Attachment(file_name, book),),
        month=ret["month"],
        unit_code=unit.code,
        submission_id=ret["submission_id"],
    )


def return_mails(engine: Engine, cfg: Config, home: Path, outputs: Path) -> list[Mail]:
    """Every return still owed to its unit, as a mail."""
    out = []
    for ret in pending_returns(engine):
        with engine.connect() as conn:
            warnings = warnings_of(conn, [ret["submission_id"]])
        out.append(return_mail(cfg, ret, home, outputs / ret["month"] / "returns", warnings))
    return out
