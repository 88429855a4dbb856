"""Warnings' 说明: the unit explains a warning, the reviewer accepts or queries it, and an explained warning on an
unchanged value is carried to the next version or month instead of being raised again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from core.month import month_key
from tasks.review.states import ReviewRefused
from warehouse.schema import dim_month, dim_unit, fct_submission, fct_validation_issue, fct_warning_explanation

UNEXPLAINED, EXPLAINED, ACCEPTED, QUERIED = "unexplained", "explained", "accepted", "queried"
STATUS_LABELS = {UNEXPLAINED: "未说明", EXPLAINED: "已说明待确认", ACCEPTED: "说明已接受", QUERIED: "说明被质询"}
NEEDS_EXPLANATION = frozenset({UNEXPLAINED, QUERIED})


@dataclass(frozen=True)
class WarningView:
    """One warning of a counted version, with where it is and where its 说明 stands."""

    issue_id: int
    submission_id: int
    unit_code: str
    rule: str
    sheet: str | None
    cell: str | None
    row_no: int | None
    region: str | None
    value: str | None
    message_zh: str
    status: str
    explanation: str | None
    query: str | None

    @property
    def key(self) -> str:
        return f"{self.sheet}!{self.cell}"

    @property
    def unexplained(self) -> bool:
        return self.status in NEEDS_EXPLANATION


def _latest(conn: Connection, issue_ids: list[int]) -> dict[int, object]:
    """The latest explanation of each warning (the one that counts)."""
    e = fct_warning_explanation
    newest = (
        select(e.c.issue_id, func.max(e.c.explanation_id).label("eid"))
        .where(e.c.issue_id.in_(issue_ids or [-1]))
        .group_by(e.c.issue_id)
        .subquery()
    )
    rows = conn.execute(select(e).join(newest, newest.c.eid == e.c.explanation_id))
    return {r.issue_id: r for r in rows}


def _status(row) -> str:
    if row is None:
        return UNEXPLAINED
    return {None: EXPLAINED, "accepted": ACCEPTED, "queried": QUERIED}[row.decision]


def warnings_of(conn: Connection, submission_ids: list[int], open_only: bool = True) -> list[WarningView]:
    """The warnings of these submissions (still raised ones only, by default), each with its 说明 status."""
    i = fct_validation_issue
    query = (
        select(i, dim_unit.c.unit_code)
        .join(fct_submission, fct_submission.c.submission_id == i.c.submission_id)
        .join(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key)
        .where(i.c.submission_id.in_(submission_ids or [-1]), i.c.severity == "warning")
        .order_by(dim_unit.c.sort_order, i.c.row_no, i.c.issue_id)
    )
    if open_only:
        query = query.where(i.c.is_open.is_(True))
    rows = conn.execute(query).all()
    latest = _latest(conn, [r.issue_id for r in rows])
    out = []
    for r in rows:
        ex = latest.get(r.issue_id)
        out.append(
            WarningView(
                r.issue_id,
                r.submission_id,
                r.unit_code,
                r.rule,
                r.sheet,
                r.cell,
                r.row_no,
                r.region,
                r.value,
                r.message_zh,
                _status(ex),
                getattr(ex, "text", None),
                getattr(ex, "query", None),
            )
        )
    return out


def explain_warnings(engine: Engine, submission_id: int, explanations: dict[str, str], actor: str) -> list[int]:
    """Record the unit's 说明 for warnings of one submission, keyed f"{sheet}!{cell}"; the explanation ids. A key that
    names no warning of the submission, or an empty text, is refused and nothing is recorded."""
    at = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        found = {w.key: w for w in warnings_of(conn, [submission_id], open_only=False)}
        unknown = sorted(k for k in explanations if k not in found)
        if unknown:
            raise ReviewRefused(f"提交 {submission_id} 没有这些单元格的警告 / no warning at: {', '.join(unknown)}")
        empty = sorted(k for k, text in explanations.items() if not (text or "").strip())
        if empty:
            raise ReviewRefused(f"说明不能为空 / an explanation is empty: {', '.join(empty)}")
        return [_explain(conn, found[k].issue_id, text.strip(), actor, at) for k, text in explanations.items()]


def _explain(conn: Connection, issue_id: int, text: str, actor: str, at: dt.datetime, **extra: object) -> int:
    e = fct_warning_explanation
    values = {"issue_id": issue_id, "text": text, "explained_by": actor, "explained_at": at, **extra}
    return conn.execute(insert(e).values(**values).returning(e.c.explanation_id)).scalar_one()


def decide_explanation(engine: Engine, issue_id: int, decision: str, actor: str, query: str | None = None) -> None:
    """The reviewer accepts (接受) or queries (质询, with a question) the latest 说明 of a warning, once."""
    if decision not in (ACCEPTED, QUERIED):
        raise ReviewRefused(f"decision must be accepted or queried, not {decision}")
    if decision == QUERIED and not (query or "").strip():
        raise ReviewRefused("质询须写明问题 / a query needs its question")
    with engine.begin() as conn:
        ex = _latest(conn, [issue_id]).get(issue_id)
        if ex is None:
            raise ReviewRefused(f"警告 {issue_id} 尚无说明 / warning {issue_id} has no explanation yet")
        if ex.decision is not None:  # type: ignore[attr-defined]
            raise ReviewRefused(
                f"警告 {issue_id} 的说明已{STATUS_LABELS[_status(ex)][2:]} / already {ex.decision}"  # type: ignore[attr-defined]
            )
        conn.execute(
            update(fct_warning_explanation)
            .where(fct_warning_explanation.c.explanation_id == ex.explanation_id)  # type: ignore[attr-defined]
            .values(decision=decision, decided_by=actor, decided_at=dt.datetime.now(dt.UTC), query=query)
        )


def explain_from_remarks(
    conn: Connection, submission_id: int, remarks: dict[int, str], actor: str, at: dt.datetime
) -> int:
    """A 备注/说明 written on a warned row of the file is that warning's 说明 (in the load's transaction)."""
    n = 0
    for w in warnings_of(conn, [submission_id]):
        text = remarks.get(w.row_no) if w.row_no is not None else None
        if text and w.status == UNEXPLAINED:
            _explain(conn, w.issue_id, text, actor, at)
            n += 1
    return n


def carry_explanations(conn: Connection, submission_id: int, at: dt.datetime) -> int:
    """Warnings of a new version whose same rule, cell and value were explained before (and not queried) for the
    same unit are closed here, the 说明 carried along; returns how many were not raised again."""
    i, s = fct_validation_issue, fct_submission
    new = warnings_of(conn, [submission_id])
    unit_key = conn.execute(select(s.c.unit_key).where(s.c.submission_id == submission_id)).scalar()
    carried = 0
    for w in new:
        if w.status != UNEXPLAINED:
            continue
        earlier = (
            conn.execute(
                select(i.c.issue_id)
                .join(s, s.c.submission_id == i.c.submission_id)
                .where(
                    s.c.unit_key == unit_key,
                    s.c.submission_id != submission_id,
                    s.c.status == "accepted",
                    i.c.severity == "warning",
                    i.c.rule == w.rule,
                    i.c.row_no == w.row_no,
                    and_(i.c.region == w.region) if w.region is not None else i.c.region.is_(None),
                    i.c.value == w.value if w.value is not None else i.c.value.is_(None),
                )
                .order_by(i.c.issue_id.desc())
            )
            .scalars()
            .all()
        )
        latest = _latest(conn, list(earlier))
        before = next((latest[e] for e in earlier if e in latest and _status(latest[e]) in (EXPLAINED, ACCEPTED)), None)
        if before is None:
            continue
        _explain(
            conn,
            w.issue_id,
            before.text,  # type: ignore[attr-defined]
            before.explained_by,  # type: ignore[attr-defined]
            at,
            decision=before.decision,  # type: ignore[attr-defined]
            decided_by=before.decided_by,  # type: ignore[attr-defined]
            decided_at=before.decided_at,  # type: ignore[attr-defined]
            carried_from=before.explanation_id,  # type: ignore[attr-defined]
        )
        conn.execute(update(i).where(i.c.issue_id == w.issue_id).values(is_open=False))
        carried += 1
    if carried:
        conn.execute(update(s).where(s.c.submission_id == submission_id).values(n_warnings=s.c.n_warnings - carried))
    return carried


def month_warnings(conn: Connection, month: str) -> list[WarningView]:
    """Warnings still raised on the versions counted for `month` (current accepted reports)."""
    s = fct_submission
    ids = (
        conn.execute(
            select(s.c.submission_id)
            .join(dim_month, dim_month.c.month_key == s.c.month_key)
            .where(s.c.kind == "report", s.c.is_current.is_(True), s.c.month_key == month_key(month))
        )
        .scalars()
        .all()
    )
    return warnings_of(conn, list(ids))
