"""The `fupin` command line: one Typer app; each command group lives in fupin/commands/."""
from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from fupin.errors import FupinError

COMMAND_MODULES = [
    "fupin.commands.setup",
    "fupin.commands.labor",
    "fupin.commands.ingest",
    "fupin.commands.analyst",
    "fupin.commands.serve",
    "fupin.commands.publish",
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


def main() -> None:
    """Run the CLI: 0 success, 1 an input was rejected or a step failed, 2 a usage error."""
    try:
        app(standalone_mode=True)
    except FupinError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
