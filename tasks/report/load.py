"""Record a report submission and its figures in ONE transaction: versions, the current flag and provenance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import SupportsInt, cast

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from config import Config
from contracts.messages import Issue, make_issue
from contracts.parsed import ParsedReport
from core.crashpoint import pause_at
from core.month import is_month, month_key
from tasks.review.actions import submitted
from tasks.review.explain import carry_explanations, explain_from_remarks
from tasks.review.lock import lock_against
from tasks.review.states import MonthLock, unit_review
from warehouse.schema import (
    dim_form,
    dim_indicator,
    dim_month,
    dim_region,
    dim_unit,
    fct_indicator_value,
    fct_submission,
    fct_validation_issue,
)
from warehouse.seed import ensure_months
from warehouse.versions import Version, lock_unit, next_version

KIND = "report"


@dataclass(frozen=True)
class Receipt:
    """Where and when a file arrived."""

    sha256: str
    original_name: str
    archive_path: str
    received_at: dt.datetime
    flow_run_id: str | None = None
    source: str | None = None  # inbox:<path under the inbox>, cli:<OS user> or web:<account>
    name_hex: str | None = None  # the name's original bytes: a GBK name from a Windows share is kept as sent


@dataclass(frozen=True)
class LoadResult:
    submission_id: int
    status: str  # accepted, rejected or duplicate
    version: int | None = None
    superseded: int | None = None  # the submission that was current before this one
    n_errors: int = 0
    n_warnings: int = 0
    refusal: str | None = None  # why a file that passed its checks was refused: its month is locked
    locked: Issue | None = None  # that refusal as a located, bilingual issue


def locked_issue(parsed: ParsedReport, cfg: Config, lock: MonthLock) -> Issue:
    """The bilingual rejection of a file for a locked (unit, month): when, by whom, and whom to ask."""
    return make_issue(
        "month_locked",
        parsed.file_name,
        sheet=parsed.sheet,
        month=parsed.month,
        locked_at=f"{lock.locked_at:%Y-%m-%d %H:%M} UTC",
        locked_by=lock.locked_by,
        contact="、".join(cfg.mail.office),
    )


def _key(conn: Connection, table, column: str, value: object, key: str) -> int | None:
    if value is None:
        return None
    return conn.execute(select(table.c[key]).where(table.c[column] == value)).scalar()


def _issue_rows(submission_id: int, issues: Sequence[Issue]) -> list[dict]:
    return [
        {
            "submission_id": submission_id,
            "severity": i.severity,
            "rule": i.rule,
            "sheet": i.sheet,
            "cell": i.cell,
            "row_no": i.row_no,
            "region": i.region,
            "value": i.value,
            "message_zh": i.message_zh,
            "message_en": i.message_en,
            "is_open": True,
        }
        for i in issues
    ]


def _fact_rows(conn: Connection, parsed: ParsedReport, cfg: Config, ids: dict) -> list[dict]:
    indicators = dict(
        conn.execute(
            select(dim_indicator.c.row_no, dim_indicator.c.indicator_key).where(
                dim_indicator.c.form_key == ids["form_key"]
            )
        ).all()
    )
    regions = dict(conn.execute(select(dim_region.c.region, dim_region.c.region_key)).all())
    rows = []
    for rec in parsed.cells.itertuples(index=False):
        row_no = int(cast("SupportsInt", rec.row_no))  # an integer column; the stubs type a row's fields as any scalar
        cell = cast(float, rec.value)  # a float column, NaN when empty
        value = None if pd.isna(cell) else float(cell)
        remark = parsed.remarks.get(row_no) if rec.region == cfg.total_column else None
        rows.append(
            {
                "submission_id": ids["submission_id"],
                "indicator_key": indicators[row_no],
                "region_key": regions[rec.region],
                "unit_key": ids["unit_key"],
                "month_key": ids["month_key"],
                "value": value,
                "remark": remark,
            }
        )
    return rows


def _record(
    conn: Connection,
    parsed: ParsedReport,
    cfg: Config,
    receipt: Receipt,
    errors: Sequence[Issue],
    warnings: Sequence[Issue],
) -> LoadResult:
    unit_key = _key(conn, dim_unit, "unit_code", parsed.unit.code if parsed.unit else None, "unit_key")
    lock_unit(conn, unit_key)
    existing = conn.execute(
        select(fct_submission).where(fct_submission.c.sha256 == receipt.sha256, fct_submission.c.status == "accepted")
    ).first()
    if existing is not None:
        return LoadResult(existing.submission_id, "duplicate", existing.version)
    accepted = not errors
    now = dt.datetime.now(dt.UTC)
    if accepted:
        assert parsed.month is not None  # a report without its month is rejected
        ensure_months(conn, cfg, [parsed.month])
    month = parsed.month if is_month(parsed.month) else None
    ids = {
        "unit_key": unit_key,
        "form_key": _key(conn, dim_form, "form_code", parsed.form_code, "form_key"),
        "month_key": _key(conn, dim_month, "month_key", month_key(month), "month_key") if month else None,
    }
    before = None
    if accepted and unit_key is not None and month is not None:
        # Checked under the unit's row lock, which `fupin lock` takes too: a lock and a load never pass each other.
        lock = lock_against(conn, unit_key, month, now)
        if lock is not None:
            errors, warnings, accepted = [locked_issue(parsed, cfg, lock)], [], False
        else:
            before = unit_review(conn, unit_key, month_key(month), now).state
    numbered = (
        next_version(conn, KIND, unit_key, ids["month_key"], receipt.received_at)
        if accepted
        else Version(0, False, None)
    )
    version = numbered.number or None
    status = "accepted" if accepted else "rejected"
    row = {
        "kind": KIND,
        "sha256": receipt.sha256,
        "original_name": receipt.original_name,
        "original_name_hex": receipt.name_hex,
        "archive_path": receipt.archive_path,
        "received_at": receipt.received_at,
        **ids,
        "sent_on": parsed.sent_on,
        "status": status,
        "version": version,
        "is_current": numbered.is_current,
        "is_late": cfg.is_late(month, receipt.received_at) if month else None,
        "n_errors": len(errors),
        "n_warnings": len(warnings),
        "n_rows": len(parsed.cells),
        "flow_run_id": receipt.flow_run_id,
        "message": _message(errors),
        "source": receipt.source,
    }
    # Every attempt is its own row: a retry after a rejection keeps the rejection and its issues as they were.
    sid = conn.execute(insert(fct_submission).values(**row).returning(fct_submission.c.submission_id)).scalar_one()
    issues = _issue_rows(sid, [*errors, *warnings])
    if issues:
        conn.execute(insert(fct_validation_issue), issues)
    pause_at("load")
    n_warnings = len(warnings)
    if accepted:
        conn.execute(insert(fct_indicator_value), _fact_rows(conn, parsed, cfg, {**ids, "submission_id": sid}))
        actor = receipt.source or "unknown"
        if numbered.is_current and before is not None and parsed.unit is not None and month is not None:
            submitted(conn, unit_key, parsed.unit.code, month, sid, numbered.number, before, actor, now)  # type: ignore[arg-type]
        explain_from_remarks(conn, sid, parsed.remarks, actor, now)
        n_warnings -= carry_explanations(conn, sid, now)
    locked = errors[0] if errors and errors[0].rule == "month_locked" else None
    refusal = _message(errors) if locked else None
    return LoadResult(sid, status, version, numbered.replaced, len(errors), n_warnings, refusal, locked)


def _message(errors: Sequence[Issue]) -> str | None:
    """The submission's one-line message: the first error (in both languages when it is the month's lock)."""
    if not errors:
        return None
    first = errors[0]
    return f"{first.message_zh} / {first.message_en}" if first.rule == "month_locked" else first.message_en


def load_report(
    engine: Engine,
    parsed: ParsedReport,
    cfg: Config,
    receipt: Receipt,
    errors: Sequence[Issue],
    warnings: Sequence[Issue],
) -> LoadResult:
    """Record the submission (accepted with its figures, or rejected with its errors) in one transaction."""
    try:
        with engine.begin() as conn:
            result = _record(conn, parsed, cfg, receipt, errors, warnings)
    except IntegrityError:
        # The same bytes were stored by a concurrent run meanwhile: record again, now as that submission's duplicate.
        with engine.begin() as conn:
            result = _record(conn, parsed, cfg, receipt, errors, warnings)
    return result


def note_runs(engine: Engine, runs: dict[int, str]) -> None:
    """Link submissions to the runs that show them (submission id -> run id), recorded after the files were loaded;
    one transaction for a whole batch."""
    if not runs:
        return
    with engine.begin() as conn:
        for submission_id, flow_run_id in runs.items():
            conn.execute(
                update(fct_submission)
                .where(fct_submission.c.submission_id == submission_id)
                .values(flow_run_id=flow_run_id)
            )
