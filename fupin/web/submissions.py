"""One submission: its grid and problems, warnings' explanations, the annotated rejection, the 报送回执."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from contracts.messages import Issue
from fupin.web import queries
from fupin.web.app import render
from fupin.web.downloads import attachment
from fupin.web.grid import build_grid
from fupin.web.security import check_csrf, log, rt_of, small_form, user_of

router = APIRouter()
EXPLAIN_PREFIX = "explain:"


def visible(request: Request, submission_id: int) -> tuple[queries.Version, str | None, str | None]:
    """The submission if the caller may see it: the office sees all, a clerk only their unit's (else 404, audited)."""
    user = user_of(request)
    found = queries.submission(rt_of(request).engine, submission_id)
    if found is None or (not user.is_office and found[1] != user.unit_code):
        if found is not None:
            log(request, "denied", submission_id=submission_id, detail=f"submission of {found[1]}")
        raise HTTPException(404, "没有这个报送记录 / no such submission")
    return found


def recorded_issues(request: Request, submission_id: int, file_name: str) -> tuple[list[Issue], list[Issue]]:
    """The errors and warnings recorded for a submission, as Issues again."""
    keys = ("rule", "sheet", "cell", "row_no", "region", "value", "message_zh", "message_en")
    rows = queries.issues(rt_of(request).engine, submission_id)
    found = [Issue(r["severity"], file=file_name, **{k: r[k] for k in keys}) for r in rows]
    return [i for i in found if i.severity == "error"], [i for i in found if i.severity != "error"]


def archived_bytes(request: Request, submission_id: int) -> bytes | None:
    rt = rt_of(request)
    rel = queries.archive_path(rt.engine, submission_id)
    path = rt.settings.home / rel if rel else None
    return path.read_bytes() if path is not None and path.is_file() else None


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: int) -> Response:
    from tasks.report.parse import parse_report

    version, unit_code, month = visible(request, submission_id)
    rt = rt_of(request)
    errors, warnings = recorded_issues(request, submission_id, version.name)
    data = archived_bytes(request, submission_id)
    grid = build_grid(rt.config, parse_report(data, version.name, rt.config), errors, warnings) if data else None
    unit = rt.config.unit(unit_code) if unit_code else None
    return render(
        request,
        "submission.html",
        v=version,
        unit=unit,
        month=month,
        errors=errors,
        warnings=warnings,
        grid=grid,
        received=queries.received_text(rt.config, version.received_at),
        ui_url=rt.settings.ui_url,
        saved=request.query_params.get("saved"),
    )


@router.post("/submissions/{submission_id}/explain")
async def explain(request: Request, submission_id: int) -> Response:
    """Store the unit's 说明 for its warnings (keys `sheet!cell`) through the review step that owns them."""

    form = await small_form(request)
    check_csrf(request, form.get("csrf"))
    version, unit_code, _ = visible(request, submission_id)
    user = user_of(request)
    if user.unit_code != unit_code:
        raise HTTPException(403, "只有本单位可以填写说明 / only the unit explains its warnings")
    texts = {
        k.removeprefix(EXPLAIN_PREFIX): str(v).strip()[:2000]
        for k, v in form.items()
        if k.startswith(EXPLAIN_PREFIX) and isinstance(v, str) and v.strip()
    }
    from tasks.review.explain import ReviewRefused, explain_warnings

    try:
        explain_warnings(rt_of(request).engine, submission_id, texts, f"web:{user.username}")
    except ReviewRefused as exc:
        raise HTTPException(400, str(exc)) from None
    log(request, "explain", submission_id=submission_id, detail=f"{len(texts)} explanation(s)")
    return RedirectResponse(f"/submissions/{submission_id}?saved=1", status_code=303)


@router.get("/submissions/{submission_id}/annotated.xlsx")
def annotated(request: Request, submission_id: int) -> Response:
    """The rejected workbook with each failing cell filled red and the reasons in its comment, plus a list sheet."""
    from tasks.intake.highlight import highlight

    version, _, _ = visible(request, submission_id)
    if version.status != "rejected":
        raise HTTPException(404, "只有被退回的文件有标注版 / only a rejected file has an annotated copy")
    errors, _ = recorded_issues(request, submission_id, version.name)
    data = archived_bytes(request, submission_id) or b""
    stem, suffix = os.path.splitext(Path(version.name).name)
    log(request, "annotated", submission_id=submission_id)
    return attachment(highlight(data, suffix, errors), f"{stem}_标注.xlsx")


@router.get("/submissions/{submission_id}/receipt")
def receipt(request: Request, submission_id: int) -> Response:
    """The 报送回执 of an accepted version: one A4 page to print, stamp and send as the paper copy."""
    version, unit_code, month = visible(request, submission_id)
    if version.status != "accepted" or unit_code is None or month is None:
        raise HTTPException(404, "只有已接收的版本有回执 / only an accepted version has a receipt")
    rt = rt_of(request)
    unit = rt.config.unit(unit_code)
    form = rt.config.form(unit.form_code)
    return render(
        request,
        "receipt.html",
        v=version,
        unit=unit,
        month=month,
        form=form,
        totals=queries.totals(rt.engine, submission_id),
        received=queries.received_text(rt.config, version.received_at),
        total_column=rt.config.total_column,
        report_title=rt.config.report_title,
    )
