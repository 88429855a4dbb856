"""The pinned JSON API for scripts and checks: check, hand in, list submissions, the board."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from fupin.web import queries
from fupin.web.month_board import board_json, month_board
from fupin.web.security import log, office_only, rt_of, user_of, web_of
from fupin.web.unit import month_param
from fupin.web.uploads import ForeignFile, check_upload, issue_json, office_today, read_upload, submit_upload
from warehouse.schema import fct_submission

router = APIRouter(prefix="/api")


@router.post("/check")
async def api_check(request: Request) -> Response:
    """200 and what ingest-file would say of the file; nothing is stored."""
    user = user_of(request)
    got = await read_upload(request, web_of(request).max_upload_bytes)
    try:
        check = await run_in_threadpool(check_upload, rt_of(request), user, got)
    except ForeignFile as exc:
        log(request, "refused", detail=f"check: file is for {exc.unit.code}")
        return JSONResponse({"detail": str(exc)}, status_code=403)
    log(request, "check", detail=f"api: {len(check.errors)} error(s), {len(check.warnings)} warning(s)")
    parsed = check.parsed
    return JSONResponse(
        {
            "status": "rejected" if check.errors else "accepted",
            "unit": parsed.unit.code if parsed.unit else None,
            "month": parsed.month,
            "issues": [issue_json(i) for i in check.errors],
            "warnings": [issue_json(i) for i in check.warnings],
        }
    )


def _existing(request: Request, sha256: str | None) -> tuple[int | None, int | None]:
    """The accepted submission that holds the same bytes (a duplicate hand-in)."""
    if sha256 is None:
        return None, None
    with rt_of(request).engine.connect() as conn:
        row = conn.execute(
            select(fct_submission.c.submission_id, fct_submission.c.version).where(
                fct_submission.c.sha256 == sha256, fct_submission.c.status == "accepted"
            )
        ).first()
    return (row.submission_id, row.version) if row is not None else (None, None)


@router.post("/submissions")
async def api_submit(request: Request) -> Response:
    """201 accepted, 422 rejected (archived and recorded all the same), 403 another unit's file."""
    user = user_of(request)
    got = await read_upload(request, web_of(request).max_upload_bytes)
    try:
        _, outcome = await run_in_threadpool(submit_upload, rt_of(request), user, got)
    except ForeignFile as exc:
        log(request, "refused", detail=f"submit: file is for {exc.unit.code}")
        return JSONResponse({"detail": str(exc)}, status_code=403)
    log(request, "submit", submission_id=outcome.submission_id, detail=f"api: {outcome.status}")
    body = {
        "submission_id": outcome.submission_id,
        "status": outcome.status,
        "version": outcome.version,
        "issues": [issue_json(i) for i in outcome.errors],
    }
    if outcome.status == "accepted":
        return JSONResponse(body, status_code=201)
    if outcome.status == "rejected":
        return JSONResponse(body, status_code=422)
    if outcome.status == "duplicate":
        body["submission_id"], body["version"] = _existing(request, outcome.sha256)
        return JSONResponse(body, status_code=200)
    raise HTTPException(503, outcome.message or f"the file could not be ingested ({outcome.status})")


@router.get("/submissions")
def api_submissions(request: Request, month: str) -> Response:
    """The month's submissions: the caller's unit only; office roles see every unit."""
    user = user_of(request)
    rt, m = rt_of(request), month_param(request, month)
    found = queries.versions_by_unit(rt.engine, m)
    if not user.is_office:
        found = {user.unit_code: found.get(user.unit_code or "", [])} if user.unit_code else {}
    return JSONResponse(
        {
            "month": m,
            "submissions": [
                {
                    "submission_id": v.submission_id,
                    "unit": code,
                    "file": v.name,
                    "status": v.status,
                    "version": v.version,
                    "is_current": v.is_current,
                    "late": v.is_late,
                    "received_at": queries.received_text(rt.config, v.received_at),
                    "n_errors": v.n_errors,
                    "n_warnings": v.n_warnings,
                    "sha256": v.sha256,
                }
                for code, vs in found.items()
                for v in vs
            ],
        }
    )


@router.get("/board")
def api_board(request: Request, month: str) -> Response:
    """The office board as JSON: office roles only (403 for a unit clerk)."""
    office_only(request)
    rt, m = rt_of(request), month_param(request, month)
    return JSONResponse(board_json(month_board(rt.engine, rt.config, m, office_today(rt.config))))
