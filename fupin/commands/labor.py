"""`fupin labor`: ingest one month of the HR bureau's labor records and show Attachment 1."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from fupin.errors import UsageError
from tasks.provenance import cli_source
from warehouse.months import parse_month

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def labor(
    path: Path = typer.Argument(..., help="The HR bureau's export: .xlsx, or .csv in UTF-8 or GBK/GB18030."),
    month: str = typer.Option(..., "--month", help="Reporting month, YYYY-MM (e.g. 2020-07)."),
    max_invalid_ratio: float = typer.Option(
        0.0, "--max-invalid-ratio", min=0.0, max=1.0,
        help="Share of invalid rows tolerated (0-1); above it the file is rejected and nothing is loaded.",
    ),
) -> None:
    """Ingest a labor file: archive it, check every identity number, load the warehouse, write district lists."""
    from flows.ingest_labor import ingest_labor

    try:
        parse_month(month)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    with console.status(f"ingesting {path.name} for {month} …"):
        result = ingest_labor(path=str(path.resolve()), month=month, max_invalid_ratio=max_invalid_ratio,
                              source=cli_source())
    table = Table("", "", title=f"labor {month}: submission {result['submission_id']}")
    for label, value in (("persons (distinct)", result["persons"]), ("insured", result["insured"]),
                         ("central/western, insured (附件1 表1)", result["central_western"]),
                         ("rows excluded", result["excluded_rows"]), ("repeated numbers", result["repeated"]),
                         ("district lists", len(result["lists"]))):
        table.add_row(label, str(value))
    if result["already_loaded"]:
        console.print("[yellow]this exact file was already loaded; nothing changed[/]")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(labor)
