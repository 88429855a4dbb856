"""`fupin ingest [PATH...]`: ingest report files (the inbox by default) in this process and show what became of each.

When `fupin serve` runs, each file is also recorded there as its own ingest-file run, which the UI can retry.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from core.errors import CannotWork, FupinError, UsageError

if TYPE_CHECKING:
    from rich.progress import Progress

    from flows.intake import FileOutcome
    from tasks.intake.received import Refusal

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name
STYLE = {"accepted": "green", "rejected": "red", "crashed": "bold red", "refused": "red", "superseded": "yellow"}


def _expand(paths: list[Path]) -> tuple[list[Path], list[Refusal]]:
    """The files named or held by `paths`, and those refused unread (symlinks, special files) with why."""
    from tasks.intake.received import Refusal, drop_folder, refusal
    from tasks.report.workbook import SUFFIXES

    out: list[Path] = []
    refused: list[Refusal] = []
    for p in paths:
        if p.is_dir():
            files, bad = drop_folder(p, SUFFIXES)
            out += files
            refused += bad
        elif not os.path.lexists(p):
            raise UsageError(f"no such file or folder: {p}")
        elif why := refusal(p, p.parent):
            refused.append(Refusal(p, why))
        else:
            out.append(p)
    return out, refused


PATHS = typer.Argument(None, help="Report workbooks or folders; default: the new files in FUPIN_HOME/inbox.")


def ingest(paths: list[Path] = PATHS) -> None:
    """Ingest units' monthly reports: accepted / rejected / superseded / duplicate per file.

    Files found in the inbox move to inbox/done/ or inbox/rejected/. Exit 1 when a file was rejected or refused,
    3 when one could not be ingested (a crash, the warehouse unreachable).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from core.errors import unreadable_warehouse
    from flows.intake import ingest_paths, sweep_inbox
    from flows.runtime import load_runtime
    from tasks.intake.provenance import cli_source
    from warehouse.schema import fct_submission

    rt = load_runtime()
    try:
        with rt.engine.connect() as conn:
            conn.execute(select(fct_submission.c.submission_id).limit(1)).all()
    except DBAPIError as exc:
        raise unreadable_warehouse(exc) from exc
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task("ingesting", total=None)
        on_file = _advance(progress, bar)
        if paths:
            files, refused = _expand(paths)
            progress.update(bar, total=len(files))
            outcomes = ingest_paths(rt, files, cli_source(), on_file)
        else:
            sweep = sweep_inbox(rt, lambda n: progress.update(bar, total=n), on_file)
            outcomes, refused = sweep.outcomes, sweep.refused
    if not outcomes and not refused:
        console.print("nothing to ingest")
        return
    current = _current(rt.engine, [o.submission_id for o in outcomes if o.status == "accepted"])
    _print(outcomes, refused, current)
    crashed = [o for o in outcomes if o.status == "crashed"]
    if crashed:
        raise CannotWork(f"{len(crashed)} file(s) could not be ingested (crashed); details in FUPIN_HOME/logs")
    rejected = sum(o.status == "rejected" for o in outcomes) + len(refused)
    if rejected:
        raise FupinError(f"{rejected} file(s) rejected: see FUPIN_HOME/quarantine/ for the located reports")


def _advance(progress: Progress, bar: object):
    def on_file(outcome: FileOutcome) -> None:
        progress.update(bar, advance=1, description=outcome.name[:40])  # type: ignore[arg-type]

    return on_file


def _current(engine, submission_ids: list[int | None]) -> set[int]:
    """Which of the accepted submissions are still current (a later file in the same batch supersedes one)."""
    from sqlalchemy import select

    from warehouse.schema import fct_submission

    ids = [i for i in submission_ids if i is not None]
    if not ids:
        return set()
    with engine.connect() as conn:
        query = select(fct_submission.c.submission_id).where(
            fct_submission.c.submission_id.in_(ids), fct_submission.c.is_current
        )
        return set(conn.execute(query).scalars())


def _first_problem(outcome: FileOutcome) -> str:
    first = outcome.errors[0]
    where = f"{first.sheet}!{first.cell} " if first.cell else ""
    return f"{where}{first.message_zh}"


def _print(outcomes: list[FileOutcome], refused: list[Refusal], current: set[int]) -> None:
    from rich.table import Table

    from tasks.intake.received import name_of

    table = Table("file", "status", "unit", "month", "version", "errors", "warnings", "note", title="ingest")
    for o in outcomes:
        status = "superseded" if o.status == "accepted" and o.submission_id not in current else o.status
        note = _first_problem(o) if o.errors else ("" if o.status in ("accepted", "duplicate") else o.message)
        table.add_row(
            o.name,
            f"[{STYLE.get(status, 'dim')}]{status}[/]",
            o.unit_name or "",
            o.month or "",
            "" if o.version is None else str(o.version),
            str(len(o.errors)),
            str(len(o.warnings)),
            note[:100],
        )
    for item in refused:
        table.add_row(name_of(item.path), "[red]refused[/]", "", "", "", "", "", item.reason)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
