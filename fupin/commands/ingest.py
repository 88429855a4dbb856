"""`fupin ingest [PATH...]`: ingest report files (the inbox by default) and show what became of each.

With `fupin serve` running on this machine, the files go to its platform's warm process (each file still its own
ingest-file run the UI can retry), so the command answers at once; otherwise they are ingested in this process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from core.errors import CannotWork, FupinError

if TYPE_CHECKING:
    from rich.progress import Progress

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name
STYLE = {"accepted": "green", "rejected": "red", "crashed": "bold red", "refused": "red", "superseded": "yellow"}
COLUMNS = ("file", "status", "unit", "month", "version", "errors", "warnings", "note")
Row = dict[str, Any]

PATHS = typer.Argument(None, help="Report workbooks or folders; default: the new files in FUPIN_HOME/inbox.")
HERE = typer.Option(
    False, "--in-process", help="Ingest in this process even when `fupin serve` runs (its runs still show in the UI)."
)


def ingest(paths: list[Path] = PATHS, in_process: bool = HERE) -> None:
    """Ingest units' monthly reports: accepted / rejected / superseded / duplicate per file.

    Files found in the inbox move to inbox/done/ or inbox/rejected/. Exit 1 when a file was rejected or refused,
    3 when one could not be ingested (a crash, the warehouse unreachable).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.settings import Settings, SettingsError
    from fupin.handoff import NotHere, hand_off, local_platform
    from tasks.intake.provenance import cli_source

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise FupinError(str(exc)) from exc
    platform = None if in_process else local_platform(settings.home, settings.paths.prefect_home)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    rows: list[Row] | None = None
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task("ingesting", total=None)
        if platform is not None:
            try:
                rows = _relay(hand_off(platform, paths or [], cli_source()), progress, bar)
            except NotHere:
                rows = None
        if rows is None:
            rows = _here(paths or [], progress, bar)
    if not rows:
        console.print("nothing to ingest")
        return
    _print(rows)
    statuses = [r["status"] for r in rows]
    crashed = statuses.count("crashed")
    if crashed:
        raise CannotWork(f"{crashed} file(s) could not be ingested (crashed); details in FUPIN_HOME/logs")
    rejected = statuses.count("rejected") + statuses.count("refused")
    if rejected:
        raise FupinError(f"{rejected} file(s) rejected: see FUPIN_HOME/quarantine/ for the located reports")


def _relay(events: Iterable[dict[str, Any]], progress: Progress, bar: Any) -> list[Row]:
    """Move the bar as the platform reports each file; its table, or its error as ours."""
    for event in events:
        if "total" in event:
            progress.update(bar, total=event["total"])
        elif "file" in event:
            progress.update(bar, advance=1, description=str(event["file"])[:40])
        elif "rows" in event:
            return list(event["rows"])
        elif "error" in event:
            error = CannotWork if event.get("exit") == CannotWork.exit_code else FupinError
            raise error(str(event["error"]))
    raise CannotWork("the platform ended without a result")


def _here(paths: list[Path], progress: Progress, bar: Any) -> list[Row]:
    """Ingest in this process (the warehouse checked first, so a missing one is one line, not a traceback)."""
    from sqlalchemy import select
    from sqlalchemy.exc import DBAPIError

    from core.errors import unreadable_warehouse
    from flows.intake import ingest_paths, sweep_inbox
    from flows.runtime import load_runtime
    from fupin.ingest_report import expand, table_rows
    from tasks.intake.provenance import cli_source
    from warehouse.schema import fct_submission

    rt = load_runtime()
    try:
        with rt.engine.connect() as conn:
            conn.execute(select(fct_submission.c.submission_id).limit(1)).all()
    except DBAPIError as exc:
        raise unreadable_warehouse(exc) from exc
    on_file = _advance(progress, bar)
    if paths:
        files, refused = expand(paths)
        progress.update(bar, total=len(files))
        outcomes = ingest_paths(rt, files, cli_source(), on_file)
    else:
        sweep = sweep_inbox(rt, lambda n: progress.update(bar, total=n), on_file)
        outcomes, refused = sweep.outcomes, sweep.refused
    return table_rows(rt.engine, outcomes, refused)


def _advance(progress: Progress, bar: Any) -> Callable[[Any], None]:
    def on_file(outcome: Any) -> None:
        progress.update(bar, advance=1, description=outcome.name[:40])

    return on_file


def _print(rows: list[Row]) -> None:
    from rich.table import Table

    table = Table(*COLUMNS, title="ingest")
    for row in rows:
        status = row["status"]
        cells = [str(row[c]) for c in COLUMNS]
        cells[1] = f"[{STYLE.get(status, 'dim')}]{status}[/]"
        table.add_row(*cells)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
