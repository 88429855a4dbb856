"""`fupin ingest [PATH...]`: run the ingest-file flow on files (the inbox by default) and show what became of each."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from core.errors import FupinError, UsageError, unreadable_warehouse
from flows.runtime import load_runtime
from tasks.intake.provenance import cli_source
from tasks.intake.received import Refusal, RefusedFile, drop_folder, hash_file, name_of, path_param, refusal
from tasks.report.workbook import SUFFIXES
from warehouse.schema import dim_month, dim_unit, fct_submission

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def _expand(paths: list[Path]) -> tuple[list[Path], list[Refusal]]:
    """The files named or held by `paths`, and those refused unread (symlinks, special files) with why."""
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


PATHS = typer.Argument(None, help="Report workbooks or folders; default: new files in the inbox.")


def ingest(paths: list[Path] = PATHS) -> None:
    """Ingest units' monthly reports; prints accepted / rejected / superseded / duplicate, exits 1 on rejects."""
    from flows.ingest_inbox import new_inbox_files

    rt = load_runtime()
    try:
        with rt.engine.connect() as conn:
            before = {
                r.sha256: r.status for r in conn.execute(select(fct_submission.c.sha256, fct_submission.c.status))
            }
    except DBAPIError as exc:
        raise unreadable_warehouse(exc) from exc
    if paths:
        files, refused = _expand(paths)
    else:
        scan = new_inbox_files.fn(rt.settings.paths.inbox, rt.settings.paths.archive, rt.engine)
        files, refused = scan.files, scan.refused
    if not files and not refused:
        console.print("nothing to ingest")
        return
    shas = _run(files, before, refused)
    query = (
        select(fct_submission, dim_unit.c.unit_name, dim_month.c.month)
        .outerjoin(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key)
        .outerjoin(dim_month, dim_month.c.month_key == fct_submission.c.month_key)
        .where(fct_submission.c.sha256.in_(shas.values()))
    )
    with rt.engine.connect() as conn:
        rows = {r.sha256: r for r in conn.execute(query)}
    rejected = _print(shas, before, rows, refused)
    if rejected:
        raise FupinError(f"{rejected} file(s) rejected: see FUPIN_HOME/quarantine/ for the located reports")


def _run(files: list[Path], before: dict, refused: list[Refusal]) -> dict[Path, str]:
    """One ingest-file run per file not yet accepted; a file that cannot be read joins `refused`, the rest go on."""
    from flows.ingest_file import ingest_file

    shas = {}
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("ingesting", total=len(files))
        for f in files:
            progress.advance(bar)
            try:
                shas[f] = hash_file(f)
            except (RefusedFile, OSError) as exc:
                refused.append(Refusal(f, str(exc)))
                continue
            if before.get(shas[f]) != "accepted":
                try:
                    ingest_file(path_param(f), source=cli_source(), return_state=True)
                except Exception as exc:  # noqa: BLE001 - shown as "failed" below; the other files still run
                    console.print(f"{name_of(f)}: the run could not start: {type(exc).__name__}")
    return shas


def _status(sha: str, before: dict, row) -> str:
    if row is None:
        return "failed"
    if before.get(sha) == "accepted":
        return "duplicate"
    if row.status == "accepted" and not row.is_current:
        return "superseded"
    return row.status


def _print(shas: dict[Path, str], before: dict, rows: dict, refused: list[Refusal]) -> int:
    table = Table("file", "status", "unit", "month", "version", "errors", "warnings", "note", title="ingest")
    rejected = 0
    for f, sha in shas.items():
        row = rows.get(sha)
        status = _status(sha, before, row)
        rejected += status in ("rejected", "failed")
        style = {"accepted": "green", "rejected": "red", "failed": "red", "superseded": "yellow"}.get(status, "dim")
        cells = (
            ["", "", "", "", "", "the flow run crashed before recording the file; see its logs"]
            if row is None
            else [
                row.unit_name or "",
                row.month or "",
                "" if row.version is None else str(row.version),
                str(row.n_errors),
                str(row.n_warnings),
                (row.message or "")[:100],
            ]
        )
        table.add_row(name_of(f), f"[{style}]{status}[/]", *cells)
    for item in refused:
        table.add_row(name_of(item.path), "[red]refused[/]", "", "", "", "", "", item.reason)
    console.print(table)
    return rejected + len(refused)


def register(app: typer.Typer) -> None:
    app.command()(ingest)
