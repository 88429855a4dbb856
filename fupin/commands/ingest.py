"""`fupin ingest [PATH...]`: run the ingest-file flow on files (the inbox by default) and show what became of each."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from fupin.errors import FupinError, UsageError, unreadable_warehouse
from fupin.runtime import load_runtime
from tasks.archive import sha256_of
from tasks.parse_workbook import SUFFIXES
from tasks.provenance import cli_source
from warehouse.schema import dim_month, dim_unit, fct_submission

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)
        elif p.is_file():
            out.append(p)
        else:
            raise UsageError(f"no such file or folder: {p}")
    return out


PATHS = typer.Argument(None, help="Report workbooks or folders; default: new files in the inbox.")


def ingest(paths: list[Path] = PATHS) -> None:
    """Ingest units' monthly report workbooks; prints accepted / rejected / superseded / duplicate, exits 1 on rejects."""
    from flows.ingest_file import ingest_file
    from flows.ingest_inbox import new_inbox_files

    rt = load_runtime()
    try:
        with rt.engine.connect() as conn:
            before = {r.sha256: r.status for r in conn.execute(select(fct_submission.c.sha256, fct_submission.c.status))}
    except DBAPIError as exc:
        raise unreadable_warehouse(exc) from exc
    files = _expand(paths) if paths else new_inbox_files.fn(rt.settings.paths.inbox, rt.engine)
    if not files:
        console.print("nothing to ingest")
        return
    shas = {}
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("ingesting", total=len(files))
        for f in files:
            shas[f] = sha256_of(f.read_bytes())
            if before.get(shas[f]) != "accepted":
                ingest_file(str(f), source=cli_source(), return_state=True)
            progress.advance(bar)
    query = (select(fct_submission, dim_unit.c.unit_name, dim_month.c.month)
             .outerjoin(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key)
             .outerjoin(dim_month, dim_month.c.month_key == fct_submission.c.month_key)
             .where(fct_submission.c.sha256.in_(shas.values())))
    with rt.engine.connect() as conn:
        rows = {r.sha256: r for r in conn.execute(query)}
    rejected = _print(files, shas, before, rows)
    if rejected:
        raise FupinError(f"{rejected} file(s) rejected: see FUPIN_HOME/quarantine/ for the located reports")


def _status(sha: str, before: dict, row) -> str:
    if row is None:
        return "failed"
    if before.get(sha) == "accepted":
        return "duplicate"
    if row.status == "accepted" and not row.is_current:
        return "superseded"
    return row.status


def _print(files: list[Path], shas: dict, before: dict, rows: dict) -> int:
    table = Table("file", "status", "unit", "month", "version", "errors", "warnings", "note", title="ingest")
    rejected = 0
    for f in files:
        row = rows.get(shas[f])
        status = _status(shas[f], before, row)
        rejected += status in ("rejected", "failed")
        style = {"accepted": "green", "rejected": "red", "failed": "red", "superseded": "yellow"}.get(status, "dim")
        cells = ["", "", "", "", "", "the flow run crashed before recording the file; see its logs"] if row is None else [
            row.unit_name or "", row.month or "", "" if row.version is None else str(row.version),
            str(row.n_errors), str(row.n_warnings), (row.message or "")[:100]]
        table.add_row(f.name, f"[{style}]{status}[/]", *cells)
    console.print(table)
    return rejected


def register(app: typer.Typer) -> None:
    app.command()(ingest)
