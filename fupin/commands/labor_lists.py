"""`fupin labor-lists`: write a month's district labor lists (or one district's), only those missing or stale."""

from __future__ import annotations

import typer
from rich.console import Console

from core.errors import FupinError, UsageError
from core.month import Month

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def labor_lists(
    month: str = typer.Option(..., "--month", help="Reporting month, YYYY-MM (e.g. 2020-07)."),
    district: str | None = typer.Option(
        None, "--district", help="One district, by name, short name or code (e.g. 朝阳区, 朝阳); default: all."
    ),
) -> None:
    """Write each district's list of its laborers (and its 稳岗 warnings) for a month from the warehouse; a list
    already made from the same labor files is left as it is. The monthly close runs this; a district's download on
    the web platform writes its own list when needed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows.labor_steps import write_labor_lists
    from flows.runtime import load_runtime

    month = Month(month)
    rt = load_runtime()
    name = None
    if district is not None:
        unit = rt.config.resolve_unit(district)
        if unit is None or unit.kind != "district":
            raise UsageError(f"not one of the districts: {district} / 不是北京16区之一")
        name = unit.name
    total = 1 if name else len(rt.config.districts)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task("区名单 district lists", total=total)
            lists = write_labor_lists(rt, month, name, on_district=lambda _: progress.advance(bar))
    finally:
        rt.engine.dispose()
    if lists is None:
        raise FupinError(
            f"no labor file was accepted for {month}: load it first with `fupin labor FILE --month {month}` / "
            f"{month} 尚无已接收的劳动力名单"
        )
    kept = len(lists.paths) - len(lists.districts_written)
    console.print(
        f"{month}: {len(lists.districts_written)} district list(s) written, {kept} already up to date, in "
        f"{rt.settings.paths.outputs / month / 'labor'}"
    )


def register(app: typer.Typer) -> None:
    app.command("labor-lists")(labor_lists)
