"""The office's 审核 on the board: approve, return with a reason, reopen one unit, accept or query a warning's 说明,
and lock the month; each through the review domain as `web:<account>`, and in the platform's audit log."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from config import Unit
from core.errors import FupinError
from core.month import Month
from fupin.web.board import month_page, unit_of, unit_page
from fupin.web.review_view import unit_review_view
from fupin.web.security import check_csrf, log, office_only, rt_of, small_form
from fupin.web.unit import month_param
from tasks.accounts.users import User
from tasks.review.explain import ACCEPTED, EXPLAINED, QUERIED, decide_explanation
from tasks.review.lock import DEFAULT_REOPEN_DAYS, lock_month, reopen_unit
from tasks.review.states import ReviewRefused

router = APIRouter()
MAX_TEXT = 2000
NO_REASON = "退回必须填写原因，原因会随邮件和退回的工作簿发给填报单位 / a return needs a reason: it reaches the unit"
NO_QUESTION = "质询必须写明问题 / a query needs its question"


def actor(user: User) -> str:
    """Who the review domain records for a platform action."""
    return f"web:{user.username}"


async def _posted(request: Request, code: str) -> tuple[User, Unit, Month, FormData]:
    """An office account's CSRF-checked form about one unit's month."""
    user = office_only(request)
    form = await small_form(request)
    check_csrf(request, form.get("csrf"))
    return user, unit_of(request, code), month_param(request, str(form.get("month") or "")), form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def _back(unit: Unit, m: Month, done: str) -> Response:
    return RedirectResponse(f"/board/units/{unit.code}?month={m}&done={done}", status_code=303)


def _refused(request: Request, unit: Unit, m: Month, what: str, message: str, **inputs: object) -> Response:
    """The unit page again, 400, with the domain's (or the form's) bilingual reason; the refusal is audited too."""
    log(request, f"{what}_refused", unit_code=unit.code, detail=f"{m}: {message}"[:500])
    return unit_page(request, unit, m, status_code=400, review_error=message, **inputs)


@router.post("/board/units/{code}/approve")
async def approve(request: Request, code: str) -> Response:
    """审核通过: the unit's current version is approved (from 待审 only)."""
    from tasks.review.actions import approve as do_approve

    user, unit, m, _ = await _posted(request, code)
    try:
        t = await run_in_threadpool(do_approve, rt_of(request).engine, unit.code, m, actor(user))
    except ReviewRefused as exc:
        return _refused(request, unit, m, "approve", str(exc))
    log(request, "approve", unit_code=unit.code, submission_id=t.submission_id, detail=f"{m} v{t.version}")
    return _back(unit, m, "approve")


def _return_and_mail(request: Request, unit: Unit, m: Month, who: str, reason: str):
    """Record the return, then send the unit its e-mail with the annotated workbook, as `fupin review return` does."""
    from tasks.mail.send import sink_from_settings
    from tasks.publish.steps import deliver
    from tasks.review.actions import return_report
    from tasks.review.notify import return_mails

    rt = rt_of(request)
    t = return_report(rt.engine, unit.code, m, who, reason)
    paths = rt.settings.paths
    try:
        mails = return_mails(rt.engine, rt.config, paths.home, paths.outputs)
        deliver(rt.engine, sink_from_settings(rt.settings), mails, rt.settings.mail_from)
    except FupinError:  # the return stands: its mail stays owed and goes with the next send (fupin publish --send)
        return t, False
    return t, True


@router.post("/board/units/{code}/return")
async def return_(request: Request, code: str) -> Response:
    """退回: the current version goes back to the unit with a reason, which reaches it by e-mail; none, no return."""
    user, unit, m, form = await _posted(request, code)
    reason = _text(form, "reason")
    if not reason:
        return _refused(request, unit, m, "return", NO_REASON)
    try:
        t, mailed = await run_in_threadpool(_return_and_mail, request, unit, m, actor(user), reason)
    except ReviewRefused as exc:
        return _refused(request, unit, m, "return", str(exc), return_reason=reason)
    detail = f"{m} v{t.version}" + ("" if mailed else " (mail owed)")
    log(request, "return", unit_code=unit.code, submission_id=t.submission_id, detail=detail)
    return _back(unit, m, "return" if mailed else "return_mail_owed")


@router.post("/board/units/{code}/reopen")
async def reopen(request: Request, code: str) -> Response:
    """重新开放: one unit of a locked month may hand in again for a few days; the others stay locked."""
    user, unit, m, form = await _posted(request, code)
    reason, days_text = _text(form, "reason"), _text(form, "days") or str(DEFAULT_REOPEN_DAYS)
    try:
        days = float(days_text)
        t = await run_in_threadpool(reopen_unit, rt_of(request).engine, unit.code, m, actor(user), reason, days)
    except ValueError:
        return _refused(request, unit, m, "reopen", f"天数应为数字 / days must be a number: {days_text[:20]}")
    except ReviewRefused as exc:
        return _refused(request, unit, m, "reopen", str(exc), reopen_reason=reason)
    log(request, "reopen", unit_code=unit.code, detail=f"{m} until {t.expires_at:%Y-%m-%d %H:%M} UTC")
    return _back(unit, m, "reopen")


@router.post("/board/units/{code}/warnings/{issue_id}")
async def decide(request: Request, code: str, issue_id: int) -> Response:
    """接受 or 质询 (with a question) the 说明 of one warning of the unit's current version."""
    user, unit, m, form = await _posted(request, code)
    view = await run_in_threadpool(unit_review_view, rt_of(request).engine, unit.code, m)
    found = next((w for w in view.warnings if w.issue_id == issue_id), None)
    if found is None:
        raise HTTPException(404, f"{unit.name} {m} 的当前版本没有这条警告 / no such warning on the current version")
    decision, question = str(form.get("decision") or ""), _text(form, "question")
    if decision not in (ACCEPTED, QUERIED):
        raise HTTPException(400, "decision 应为 accepted 或 queried / decision must be accepted or queried")
    if found.status != EXPLAINED:
        return _refused(request, unit, m, "warning", f"{found.key}：没有待确认的说明 / no 说明 awaiting a decision")
    if decision == QUERIED and not question:
        return _refused(request, unit, m, "warning", f"{found.key}：{NO_QUESTION}")
    try:
        await run_in_threadpool(
            decide_explanation, rt_of(request).engine, issue_id, decision, actor(user), question or None
        )
    except ReviewRefused as exc:
        return _refused(request, unit, m, "warning", str(exc))
    name = "warning_accept" if decision == ACCEPTED else "warning_query"
    log(request, name, unit_code=unit.code, submission_id=found.submission_id, detail=f"{m} {found.key}")
    return _back(unit, m, decision)


@router.post("/board/lock")
async def lock(request: Request) -> Response:
    """锁定本月 (admins): the same lock as `fupin lock`; the month typed again confirms it."""
    user = office_only(request)
    form = await small_form(request)
    check_csrf(request, form.get("csrf"))
    m = month_param(request, str(form.get("month") or ""))
    if user.role != "admin":
        log(request, "lock_refused", detail=f"{m}: not an admin")
        raise HTTPException(403, "只有管理员可以锁定月份 / only an admin locks a month")
    reason = _text(form, "reason") or None
    if _text(form, "confirm") != str(m):
        message = f"请在确认框中输入 {m} 以锁定本月 / type {m} in the confirmation field to lock the month"
        log(request, "lock_refused", detail=f"{m}: not confirmed")
        return month_page(request, m, status_code=400, lock_error=message)
    rt = rt_of(request)
    try:
        moved = await run_in_threadpool(lock_month, rt.engine, rt.config, m, actor(user), reason)
    except ReviewRefused as exc:
        log(request, "lock_refused", detail=f"{m}: {exc}"[:500])
        return month_page(request, m, status_code=400, lock_error=str(exc))
    log(request, "lock", detail=f"{m}: {len(moved)} unit(s)")
    return RedirectResponse(f"/board?month={m}&done=lock", status_code=303)
