"""The unit's pages: this month's status and deadline, the blank template, check and hand in, the labor list."""

from __future__ import annotations

import io

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from config import Unit
from core.month import Month, MonthError, reporting_month_for
from fupin.web import queries
from fupin.web.app import render
from fupin.web.downloads import attachment
from fupin.web.grid import build_grid
from fupin.web.security import check_csrf, log, rt_of, user_of, web_of
from fupin.web.uploads import ForeignFile, check_upload, office_today, read_upload, submit_upload
from tasks.accounts.users import User

router = APIRouter()


def month_param(request: Request, month: str | None) -> Month:
    """The month asked for, or the one being reported now (the previous calendar month)."""
    if not month:
        return reporting_month_for(office_today(rt_of(request).config))
    try:
        return Month(month)
    except MonthError as exc:
        raise HTTPException(400, f"月份格式应为 YYYY-MM / month must be YYYY-MM: {exc}") from None


def own_unit(request: Request) -> tuple[User, Unit]:
    """The signed-in clerk and their unit; office roles have no unit page of their own (403)."""
    user = user_of(request)
    if user.unit_code is None:
        raise HTTPException(403, "办公室账户没有本单位页面，请使用汇总看板 / office accounts use the board")
    return user, rt_of(request).config.unit(user.unit_code)


def labor_list_path(request: Request, unit: Unit, month: str):
    from tasks.labor.lists import list_path

    return list_path(rt_of(request).settings.paths.outputs / month / "labor", month, unit.name)


def _has_labor(request: Request, month: str) -> bool:
    from tasks.labor.lists import month_submissions

    return month_submissions(rt_of(request).engine, month)[0] is not None


def _write_list(request: Request, unit: Unit, month: str) -> None:
    """The district's list of `month`, if a labor file of the month was accepted and the list is missing or stale."""
    from tasks.labor.lists import write_district_lists

    if _has_labor(request, month):
        rt = rt_of(request)
        write_district_lists(rt.engine, rt.config, month, rt.settings.paths.outputs / month / "labor", unit.name)


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/board" if user_of(request).is_office else "/unit", status_code=303)


@router.get("/unit")
def unit_page(request: Request, month: str | None = None) -> Response:
    user, unit = own_unit(request)
    rt, m = rt_of(request), month_param(request, month)
    found = queries.versions(rt.engine, m, unit.code)
    status = queries.month_status(rt.config, unit.code, m, found, office_today(rt.config))
    has_list = unit.kind == "district" and (labor_list_path(request, unit, m).is_file() or _has_labor(request, m))
    return render(
        request,
        "unit.html",
        unit=unit,
        month=m,
        status=status,
        has_list=has_list,
        received=lambda v: queries.received_text(rt.config, v.received_at),
        max_mb=web_of(request).max_upload_bytes >> 20,
        prev=m.shift(-1),
        next=m.shift(1),
    )


@router.get("/unit/template")
def template(request: Request, month: str | None = None) -> Response:
    from tasks.report.templates import build_template, template_name

    _, unit = own_unit(request)
    m, cfg = month_param(request, month), rt_of(request).config
    out = io.BytesIO()
    build_template(cfg, unit, m).save(out)
    log(request, "template", detail=m)
    return attachment(out.getvalue(), template_name(unit, m))


@router.post("/unit/upload")
async def upload(request: Request) -> Response:
    user, unit = own_unit(request)
    rt, web = rt_of(request), web_of(request)
    got = await read_upload(request, web.max_upload_bytes)
    check_csrf(request, got.fields.get("csrf"))
    submit = got.fields.get("action") == "submit"
    try:
        if submit:
            check, outcome = await run_in_threadpool(submit_upload, rt, user, got)
        else:
            check = await run_in_threadpool(check_upload, rt, user, got)
    except ForeignFile as exc:
        log(request, "refused", detail=f"{'submit' if submit else 'check'}: file is for {exc.unit.code}")
        raise HTTPException(403, str(exc)) from None
    if not submit:
        log(request, "check", detail=f"{len(check.errors)} error(s), {len(check.warnings)} warning(s)")
        grid = build_grid(rt.config, check.parsed, check.errors, check.warnings)
        return render(request, "result.html", unit=unit, name=got.name, check=check, grid=grid, checked_only=True)
    log(request, "submit", submission_id=outcome.submission_id, detail=f"{outcome.status} v{outcome.version or '-'}")
    if outcome.submission_id is None:
        grid = build_grid(rt.config, check.parsed, check.errors, check.warnings)
        return render(
            request,
            "result.html",
            status_code=409 if outcome.status == "duplicate" else 500,
            unit=unit,
            name=got.name,
            check=check,
            grid=grid,
            checked_only=False,
            outcome=outcome,
        )
    return RedirectResponse(f"/submissions/{outcome.submission_id}", status_code=303)


@router.get("/unit/labor-list")
async def labor_list(request: Request, month: str | None = None) -> Response:
    """A district's own 稳岗 labor list; no one else's, and no other unit kind's."""
    _, unit = own_unit(request)
    m = month_param(request, month)
    if unit.kind != "district":
        raise HTTPException(403, "只有各区可以下载劳动力名单 / only districts have a labor list")
    path = labor_list_path(request, unit, m)
    # Written on demand: only when missing or made from other labor files (≈1 s for a district's 22k people).
    await run_in_threadpool(_write_list, request, unit, m)
    if not path.is_file():
        raise HTTPException(404, f"{m} 的名单尚未生成 / the list for {m} is not ready yet")
    log(request, "labor_list", detail=m)
    return attachment(path.read_bytes(), path.name)
