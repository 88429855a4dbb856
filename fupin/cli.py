"""The `fupin` command line: one Typer app; each command group lives in fupin/commands/."""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import typer
from rich.console import Console

from core.errors import FupinError

COMMAND_MODULES = [
    "fupin.commands.setup",
    "fupin.commands.labor",
    "fupin.commands.ingest",
    "fupin.commands.analyst",
    "fupin.commands.serve",
    "fupin.commands.publish",
    "fupin.commands.users",
    "fupin.commands.web",
]

app = typer.Typer(
    name="fupin",
    help="Monthly data pipeline of 北京市扶贫支援办: ingest the units' reports and the HR labor records, "
    "validate, load the warehouse, publish the month.\n\nData live under FUPIN_HOME (default ./var); the "
    "warehouse is FUPIN_WAREHOUSE_URL (default a SQLite file in FUPIN_HOME).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)

err = Console(stderr=True)


def _embedded_prefect(environ: dict[str, str]) -> dict:
    """Prefect settings for the embedded default: its data under FUPIN_HOME, patience with a busy machine."""
    from prefect.settings import (
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    )

    from core.settings import Settings

    updates: dict = {}
    if not environ.get("PREFECT_HOME") and not environ.get("PREFECT_API_URL"):
        updates[PREFECT_HOME] = Settings.from_env(environ).paths.prefect_home
    if not environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = 120
    if not environ.get("PREFECT_SERVER_ANALYTICS_ENABLED"):
        updates[PREFECT_SERVER_ANALYTICS_ENABLED] = False
    return updates


def _log_crash(exc: BaseException) -> Path | None:
    """Keep the traceback of an unexpected failure in FUPIN_HOME/logs for whoever investigates."""
    from core.settings import Settings

    try:
        logs = Settings.from_env().paths.logs
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"fupin-error-{time.strftime('%Y%m%d-%H%M%S')}.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except Exception:  # noqa: BLE001 - the report must not hide the original error
        return None


def main() -> None:
    """Run the CLI: 0 success, 1 an input was rejected or a step failed, 2 a usage error."""
    from prefect.settings import temporary_settings

    from core.settings import owner_only

    owner_only()  # before Prefect creates its home and database under FUPIN_HOME, and for every child process
    try:
        with temporary_settings(updates=_embedded_prefect(dict(os.environ))):
            app(standalone_mode=True)
    except FupinError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("FUPIN_DEBUG"):
            raise
        where = _log_crash(exc)
        err.print(f"[bold red]error:[/] {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        err.print(f"details: {where}" if where else "set FUPIN_DEBUG=1 to see the traceback")
        sys.exit(1)


if __name__ == "__main__":
    main()
