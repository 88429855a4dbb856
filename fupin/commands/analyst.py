"""`fupin docs`, `fupin grant-analyst` and `fupin export`: the analysts' documented, read-only layer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from core.errors import CannotWork, FupinError, UsageError
from core.month import Month

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name
DOC_PATH = Path("docs") / "warehouse.md"


def _require_views(engine: Engine, names: list[str]) -> None:
    """A one-line error (exit 3) instead of a traceback when the warehouse is unreachable or lacks its views."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    from core.errors import unreadable_warehouse

    try:
        present = set(inspect(engine).get_view_names())
    except DBAPIError as exc:
        raise unreadable_warehouse(exc) from exc
    missing = [n for n in names if n not in present]
    if missing:
        raise CannotWork(
            f"数据仓库缺少视图 / the warehouse lacks the views {', '.join(missing)}: run `fupin init` first"
        )


def docs(
    out: Annotated[Path, typer.Option("--out", help="Where to write the data dictionary.")] = DOC_PATH,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the file is up to date (exit 1 if not).")
    ] = False,
) -> None:
    """Regenerate docs/warehouse.md (tables, views, grains, columns, indicators) from config/ and the schema."""
    from config import load_config
    from core.settings import Settings
    from tasks.analyst.docs import render_warehouse_doc
    from warehouse.access import restricted_views
    from warehouse.schema import metadata
    from warehouse.views import all_views

    cfg = load_config(Settings.from_env().config_dir)
    views = all_views()
    text = render_warehouse_doc(cfg, metadata, views, restricted_views(cfg, views))
    if check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            raise FupinError(f"{out} is out of date: run `fupin docs` and commit it")
        console.print(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote [bold]{out}[/] ({len(views)} views)")


def grant_analyst(
    role: Annotated[str, typer.Argument(help="PostgreSQL role to create or update (lower case, digits, _).")],
    login: Annotated[
        bool, typer.Option("--login", help="Let the role log in (set its password with ALTER ROLE).")
    ] = False,
) -> None:
    """Grant a PostgreSQL role SELECT on the documented views only: nothing on the tables or restricted data.

    Refuses superusers, the role the pipeline connects as and owners of the warehouse or its objects (exit 2).
    Revokes CONNECT and TEMP on the warehouse database from PUBLIC, so other roles connect only where granted.

    `fupin init` re-creates the views and keeps the grants; new views need this command again.
    """
    from flows.runtime import load_runtime
    from warehouse.access import ROLE_NAME, analyst_views
    from warehouse.access import grant_analyst as grant
    from warehouse.views import all_views

    if not ROLE_NAME.match(role):
        raise UsageError(f"role name must be lower-case letters, digits and _, not {role!r}")
    rt = load_runtime()
    if rt.engine.dialect.name != "postgresql":
        raise UsageError("grant-analyst needs a PostgreSQL warehouse (FUPIN_WAREHOUSE_URL); SQLite has no roles")
    names = [v.name for v in analyst_views(rt.config, all_views())]
    _require_views(rt.engine, names)
    with rt.engine.begin() as conn:  # a refusal raises before anything is changed, and the transaction rolls back
        grant(conn, role, names, login=login)
    console.print(f"role [bold]{role}[/] may read {len(names)} views: {', '.join(names)}")
    console.print("the warehouse database is closed to PUBLIC: roles connect only where CONNECT is granted")


def export(
    month: Annotated[str, typer.Option("--month", help="Reporting month, YYYY-MM.")],
    fmt: Annotated[str, typer.Option("--format", help="csv (UTF-8 with BOM, opens in Excel) or parquet.")] = "csv",
) -> None:
    """Write the month's rows of every analyst view to FUPIN_HOME/exports/YYYY-MM/<view>.<format>."""
    from rich.progress import track

    from flows.runtime import load_runtime
    from tasks.analyst.export import FORMATS, export_month
    from warehouse.access import analyst_views
    from warehouse.views import all_views

    month = Month(month)
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    rt = load_runtime()
    out_dir = rt.settings.paths.home / "exports" / month
    views = analyst_views(rt.config, all_views())
    _require_views(rt.engine, [v.name for v in views])
    written = []
    for view in track(views, description=f"exporting {month}", console=console):
        written += export_month(rt.engine, [view], month, fmt, out_dir)  # type: ignore[arg-type]
    console.print(f"wrote {len(written)} files to [bold]{out_dir}[/]")


def register(app: typer.Typer) -> None:
    app.command()(docs)
    app.command(name="grant-analyst")(grant_analyst)
    app.command()(export)
