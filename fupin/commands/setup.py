"""`fupin init` and `fupin templates`: create the warehouse and hand units their blank forms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import UsageError
from core.month import Month

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def init() -> None:
    """Create or upgrade the warehouse and seed its dimensions from config/ (safe to run again)."""
    import datetime as dt

    from core.month import month_of
    from flows.runtime import load_runtime
    from warehouse.init import init_warehouse

    rt = load_runtime()
    with console.status("migrating and seeding the warehouse …"):
        changed = init_warehouse(rt.engine, rt.config, months=[month_of(dt.date.today())])
    table = Table("table", "rows added or changed", title=f"warehouse ready: {rt.engine.url.render_as_string()}")
    for name, n in changed.items():
        table.add_row(name, str(n))
    console.print(table)


def templates(
    month: Annotated[str, typer.Option("--month", help="Reporting month, YYYY-MM (e.g. 2020-09).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write into (default FUPIN_HOME/templates/MONTH).")
    ] = None,
    unit: Annotated[
        list[str] | None, typer.Option("--unit", help="Only these unit codes (repeatable); default all.")
    ] = None,
) -> None:
    """Write one blank .xlsx per reporting unit, in the office's own layout, ready to fill."""
    from rich.progress import track

    from flows.runtime import load_runtime
    from tasks.report.templates import write_template

    month = Month(month)
    rt = load_runtime()
    out = out or rt.settings.paths.home / "templates" / month
    known = {u.code: u for u in rt.config.units}
    if unknown := [code for code in unit or [] if code not in known]:
        raise UsageError(f"未知单位 / unknown unit code(s): {', '.join(unknown)}")
    units = [known[code] for code in unit] if unit else list(rt.config.units)
    out.mkdir(parents=True, exist_ok=True)
    for u in track(units, description=f"templates {month}", console=console, transient=True):
        write_template(rt.config, u, month, out)
    console.print(f"wrote {len(units)} templates to [bold]{out}[/]")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(templates)
