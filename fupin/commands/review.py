"""`fupin review approve|return|list|explain|accept|query`, `fupin lock` and `fupin reopen`: the office's 审核 of
each unit's month, on record with who, when and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from core.errors import UsageError
from core.month import Month

if TYPE_CHECKING:
    from config import Config
    from flows.runtime import Runtime

console = Console(soft_wrap=True)
review_app = typer.Typer(
    help="审核: approve or return each unit's report, explain and judge warnings.", no_args_is_help=True
)

UNIT = typer.Argument(..., help="The unit: its code (e.g. chaoyang) or name (朝阳区).")
MONTH = typer.Option(..., "--month", help="Reporting month, YYYY-MM.")
CELL = typer.Option(..., "--cell", help="The warned cell as SHEET!CELL, e.g. 表1!E5 (see `fupin review list`).")


def _runtime() -> Runtime:
    from flows.runtime import load_runtime

    return load_runtime()


def _unit(cfg: Config, text: str) -> str:
    unit = cfg.resolve_unit(text)
    if unit is None:
        raise UsageError(f"未知的填报单位 / unknown unit: {text}")
    return unit.code


def _actor() -> str:
    from tasks.intake.provenance import cli_source

    return cli_source()


def _guarded(fn, *args, **kwargs):
    """Run a warehouse call; an unreachable or uninitialised warehouse is exit 3, in one line."""
    from sqlalchemy.exc import DBAPIError

    from core.errors import unreadable_warehouse

    try:
        return fn(*args, **kwargs)
    except DBAPIError as exc:
        raise unreadable_warehouse(exc) from exc


@review_app.command()
def approve(unit: str = UNIT, month: str = MONTH) -> None:
    """审核通过: approve the unit's current version (only from 待审)."""
    from tasks.review.actions import approve as do_approve

    rt = _runtime()
    t = _guarded(do_approve, rt.engine, _unit(rt.config, unit), Month(month), _actor())
    console.print(f"{t.unit_code} {t.month} 第{t.version}版: {t.line()}")


@review_app.command(name="return")
def return_(
    unit: str = UNIT,
    month: str = MONTH,
    reason: str = typer.Option(..., "--reason", help="Why (required): it reaches the unit in its e-mail and workbook."),
) -> None:
    """退回: send the unit's current version back with a reason; the unit gets an e-mail and its annotated workbook."""
    from tasks.mail.send import sink_from_settings
    from tasks.publish.steps import deliver
    from tasks.review.actions import return_report
    from tasks.review.notify import return_mails

    rt = _runtime()
    t = _guarded(return_report, rt.engine, _unit(rt.config, unit), Month(month), _actor(), reason)
    console.print(f"{t.unit_code} {t.month} 第{t.version}版: {t.line()}")
    paths = rt.settings.paths
    mails = return_mails(rt.engine, rt.config, paths.home, paths.outputs)
    for d in deliver(rt.engine, sink_from_settings(rt.settings), mails, rt.settings.mail_from):
        console.print(f"  mail: {d.detail}")


@review_app.command(name="list")
def list_(
    month: str = MONTH,
    history: bool = typer.Option(False, "--history", help="Also print every transition of the month."),
) -> None:
    """Each unit's review state, version and last decision, then the warnings still without an accepted 说明."""
    rt = _runtime()
    _guarded(_list, rt, Month(month), history)


def _list(rt: Runtime, month: Month, history: bool) -> None:
    import datetime as dt

    from core.month import month_key
    from tasks.review.explain import STATUS_LABELS, month_warnings
    from tasks.review.states import unit_reviews
    from tasks.review.transitions import history as read_history

    with rt.engine.connect() as conn:
        reviews = unit_reviews(conn, month_key(month), dt.datetime.now(dt.UTC))
        warnings = month_warnings(conn, month)
        moves = read_history(conn, None, month) if history else []
    per_unit: dict[str, list] = {}
    for w in warnings:
        per_unit.setdefault(w.unit_code, []).append(w)
    table = Table(
        "unit", "单位", "状态 state", "版本", "decided by", "at (UTC)", "原因 reason", "警告", "未说明", title=month
    )
    for r in reviews:
        mine = per_unit.get(r.unit_code, [])
        table.add_row(
            r.unit_code,
            rt.config.unit(r.unit_code).name if r.unit_code in {u.code for u in rt.config.units} else "",
            r.label + (f"（开放至 {r.reopen_until:%m-%d %H:%M}）" if r.reopen_until else ""),
            "" if r.version is None else str(r.version),
            r.decided_by or "",
            f"{r.decided_at:%Y-%m-%d %H:%M}" if r.decided_at else "",
            r.reason or "",
            str(len(mine)),
            str(sum(w.unexplained for w in mine)),
        )
    console.print(table)
    counts = {label: sum(r.label == label for r in reviews) for label in dict.fromkeys(r.label for r in reviews)}
    console.print("　".join(f"{k} {v}" for k, v in counts.items()))
    open_ones = [w for w in warnings if w.status != "accepted"]
    if open_ones:
        wt = Table("unit", "cell", "序号", "区域", "值", "问题", "说明状态", "说明", title="警告 / warnings")
        for w in open_ones:
            wt.add_row(
                w.unit_code,
                w.key,
                "" if w.row_no is None else str(w.row_no),
                w.region or "",
                w.value or "",
                w.message_zh,
                STATUS_LABELS[w.status],
                w.explanation or "",
            )
        console.print(wt)
    for t in moves:
        console.print(f"{t.unit_code}: {t.line()}")


def _warning(rt: Runtime, unit: str, month: str, cell: str):
    """The warning at SHEET!CELL of the unit's current version for the month."""
    from tasks.review.explain import month_warnings

    code = _unit(rt.config, unit)
    with rt.engine.connect() as conn:
        found = [w for w in month_warnings(conn, Month(month)) if w.unit_code == code and w.key == cell]
    if not found:
        raise UsageError(f"{code} {month} 的当前版本在 {cell} 没有警告 / no warning at {cell}")
    return found[0]


@review_app.command()
def explain(
    unit: str = UNIT,
    month: str = MONTH,
    cell: str = CELL,
    text: str = typer.Option(..., "--text", help="The unit's 说明 (e.g. given by telephone)."),
) -> None:
    """Record the unit's 说明 for one warning of its current version."""
    from tasks.review.explain import explain_warnings

    rt = _runtime()
    w = _guarded(_warning, rt, unit, month, cell)
    _guarded(explain_warnings, rt.engine, w.submission_id, {cell: text}, _actor())
    console.print(f"{w.unit_code} {cell}: 已记录说明 / explanation recorded")


@review_app.command()
def accept(unit: str = UNIT, month: str = MONTH, cell: str = CELL) -> None:
    """接受: accept the latest 说明 of one warning."""
    from tasks.review.explain import ACCEPTED, decide_explanation

    rt = _runtime()
    w = _guarded(_warning, rt, unit, month, cell)
    _guarded(decide_explanation, rt.engine, w.issue_id, ACCEPTED, _actor())
    console.print(f"{w.unit_code} {cell}: 说明已接受 / accepted")


@review_app.command()
def query(
    unit: str = UNIT,
    month: str = MONTH,
    cell: str = CELL,
    question: str = typer.Option(..., "--question", help="What the unit must clarify."),
) -> None:
    """质询: query the latest 说明 of one warning; the warning counts as unexplained until a new 说明 comes."""
    from tasks.review.explain import QUERIED, decide_explanation

    rt = _runtime()
    w = _guarded(_warning, rt, unit, month, cell)
    _guarded(decide_explanation, rt.engine, w.issue_id, QUERIED, _actor(), question)
    console.print(f"{w.unit_code} {cell}: 说明被质询 / queried")


def lock(
    month: str = MONTH,
    reason: str = typer.Option(None, "--reason", help="Why, for the record (optional)."),
) -> None:
    """锁定: close the month; a new file for it is then rejected unless its unit is reopened."""
    from tasks.review.lock import lock_month

    rt = _runtime()
    moved = _guarded(lock_month, rt.engine, rt.config, Month(month), _actor(), reason)
    console.print(f"{month} 已锁定 / locked: {len(moved)} 个单位 unit(s)")


def reopen(
    unit: str = UNIT,
    month: str = MONTH,
    reason: str = typer.Option(..., "--reason", help="Why (required, audited)."),
    days: float = typer.Option(3.0, "--days", help="How long the unit stays open (default 3 days)."),
) -> None:
    """重新开放: reopen one unit of a locked month for a few days; the other units stay locked."""
    from tasks.review.lock import reopen_unit

    rt = _runtime()
    t = _guarded(reopen_unit, rt.engine, _unit(rt.config, unit), Month(month), _actor(), reason, days)
    console.print(f"{t.unit_code} {t.month}: {t.line()}")


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
    app.command()(lock)
    app.command()(reopen)
