"""The office board: the month as units × status, the rates, arrivals toward the deadline, each unit, the xlsx."""

from __future__ import annotations

import datetime as dt
import io

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import delete, insert, select
from starlette.responses import Response

from config import Unit
from core.month import Month, month_key
from fupin.web import queries
from fupin.web.app import render
from fupin.web.downloads import attachment
from fupin.web.month_board import CHART_HEIGHT, Board, month_board
from fupin.web.review_view import ACTION_NAMES, LABELS, STATUS_LABELS, may, unit_review_view
from fupin.web.security import check_csrf, log, office_only, rt_of, small_form
from fupin.web.unit import month_param
from fupin.web.uploads import office_today
from tasks.accounts.users import now_utc
from warehouse.schema import app_paper_copy, dim_month, dim_unit

router = APIRouter()


@router.get("/board")
def board_page(request: Request, month: str | None = None) -> Response:
    office_only(request)
    return month_page(request, month_param(request, month))


def month_page(request: Request, m: Month, status_code: int = 200, **extra: object) -> Response:
    """The board's month page; `extra` carries a refused lock's message."""
    rt = rt_of(request)
    board = month_board(rt.engine, rt.config, m, office_today(rt.config))
    return render(
        request,
        "board.html",
        status_code=status_code,
        board=board,
        month=m,
        prev=m.shift(-1),
        next=m.shift(1),
        chart_height=CHART_HEIGHT,
        labels=queries.STATE_LABELS,
        office_time=lambda t: queries.received_text(rt.config, t),
        done=request.query_params.get("done"),
        **extra,
    )


def board_xlsx(board: Board) -> bytes:
    """The board as a workbook: the figures on top, then one row per unit."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("报送情况")
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, [f"{board.month} 报送情况 / reporting status", f"截止 deadline {board.deadline}"], bold)
    r = board.rates
    ws.write_row(
        1, 0, ["应报 expected", "已报 reported", "按时 on time", "报送率 % reporting", "及时率 % on time"], bold
    )
    ws.write_row(2, 0, [r["n_expected"], r["n_reported"], r["n_on_time"], r["reporting_rate"], r["on_time_rate"]])
    headers = [
        "单位 unit",
        "代码 code",
        "表 form",
        "状态 status",
        "版本 version",
        "接收时间 received",
        "逾期 late",
        "警告 warnings",
        "纸质盖章件 paper copy",
        "审核 review",
    ]
    ws.write_row(4, 0, headers, bold)
    for n, row in enumerate(board.rows, start=5):
        s, cur = row.status, row.status.current
        ws.write_row(
            n,
            0,
            [
                row.unit.name,
                row.unit.code,
                row.unit.form_code,
                queries.STATE_LABELS[s.state],
                cur.version if cur else "",
                cur.received_at.isoformat(timespec="seconds") if cur else "",
                "是 yes" if s.late else "",
                cur.n_warnings if cur else "",
                row.paper["received_on"].isoformat() if row.paper else "",
                board.review_label(row.unit.code),
            ],
        )
    ws.set_column(0, 0, 18)
    ws.set_column(1, 9, 14)
    ws.freeze_panes(5, 1)
    wb.close()
    return out.getvalue()


@router.get("/board.xlsx")
def board_download(request: Request, month: str | None = None) -> Response:
    office_only(request)
    rt, m = rt_of(request), month_param(request, month)
    board = month_board(rt.engine, rt.config, m, office_today(rt.config))
    log(request, "board_xlsx", detail=m)
    return attachment(board_xlsx(board), f"{m}_报送情况.xlsx")


def unit_of(request: Request, code: str) -> Unit:
    try:
        return rt_of(request).config.unit(code)
    except KeyError:
        raise HTTPException(404, "没有这个单位 / no such unit") from None


@router.get("/board/units/{code}")
def unit_detail(request: Request, code: str, month: str | None = None) -> Response:
    """One unit's month for the office: its versions, their issues and warnings, runs, and the paper copy."""
    office_only(request)
    return unit_page(request, unit_of(request, code), month_param(request, month))


def unit_page(request: Request, unit: Unit, m: Month, status_code: int = 200, **extra: object) -> Response:
    """The board's unit page, with its review panel; `extra` carries a refused action's message and inputs."""
    rt = rt_of(request)
    found = queries.versions(rt.engine, m, unit.code)
    status = queries.month_status(rt.config, unit.code, m, found, office_today(rt.config))
    details = {v.submission_id: queries.issues(rt.engine, v.submission_id) for v in found}
    return render(
        request,
        "board_unit.html",
        status_code=status_code,
        unit=unit,
        month=m,
        status=status,
        details=details,
        paper=queries.paper_copies(rt.engine, m).get(unit.code),
        today=office_today(rt.config),
        ui_url=rt.settings.ui_url,
        received=lambda v: queries.received_text(rt.config, v.received_at),
        review=unit_review_view(rt.engine, unit.code, m),
        may=may,
        action_names=ACTION_NAMES,
        labels_of=LABELS.get,
        explanation_labels=STATUS_LABELS,
        office_time=lambda t: queries.received_text(rt.config, t),
        done=request.query_params.get("done"),
        **extra,
    )


@router.post("/board/units/{code}/paper")
async def record_paper(request: Request, code: str) -> Response:
    """Record that the unit's stamped paper copy (纸质盖章件) arrived, on which day and by whom; or undo it."""
    user = office_only(request)
    form = await small_form(request)
    check_csrf(request, form.get("csrf"))
    unit, m = unit_of(request, code), month_param(request, str(form.get("month") or ""))
    engine = rt_of(request).engine
    with engine.begin() as conn:
        unit_key = conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == unit.code)).scalar_one()
        if conn.execute(select(dim_month.c.month_key).where(dim_month.c.month_key == month_key(m))).first() is None:
            raise HTTPException(400, f"{m} 不是已登记的月份 / {m} is not a month of the warehouse")
        where = (app_paper_copy.c.unit_key == unit_key) & (app_paper_copy.c.month_key == month_key(m))
        conn.execute(delete(app_paper_copy).where(where))
        if form.get("undo") is None:
            try:
                day = dt.date.fromisoformat(str(form.get("received_on") or ""))
            except ValueError:
                raise HTTPException(400, "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD") from None
            conn.execute(
                insert(app_paper_copy).values(
                    unit_key=unit_key,
                    month_key=month_key(m),
                    received_on=day,
                    recorded_by=user.username,
                    recorded_at=now_utc(),
                )
            )
    log(request, "paper_copy", unit_code=unit.code, detail=f"{m} {'undone' if form.get('undo') else 'received'}")
    return RedirectResponse(f"/board/units/{unit.code}?month={m}", status_code=303)
