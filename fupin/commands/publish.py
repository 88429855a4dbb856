"""`fupin publish` and `fupin remind`: the month's consolidated workbook, and reminders to units that owe a report."""

from __future__ import annotations

import typer
from rich.console import Console

from core.errors import FupinError
from core.month import Month
from core.settings import SettingsError

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def publish(
    month: str = typer.Option(..., "--month", help="Reporting month, YYYY-MM (e.g. 2020-09)."),
    send: bool = typer.Option(
        False,
        "--send",
        help="Also send receipts, rejections, district labor lists and the "
        "workbook (SMTP if FUPIN_SMTP_HOST is set, else .eml files in FUPIN_HOME/outbox/).",
    ),
) -> None:
    """Write the month's consolidated workbook to FUPIN_HOME/outputs/MONTH/ (a new version if anything changed)."""
    from flows.publish_month import publish_month

    month = Month(month)
    try:
        with console.status(f"publishing {month} ..."):
            result = publish_month(month=month, send=send)
    except SettingsError as exc:
        raise FupinError(str(exc)) from exc
    state = "new version" if result["created"] else "unchanged, kept"
    console.print(f"{month} v{result['version']} ({state}): [bold]{result['path']}[/]")
    for detail in result["sent"]:
        console.print(f"  mail: {detail}")


def remind(
    month: str = typer.Option(None, "--month", help="Reporting month, YYYY-MM (default: the month reported now)."),
) -> None:
    """Remind every unit that has not yet sent an accepted report for the month (once a day at most)."""
    from flows.remind_late_units import remind_late_units

    chosen = Month(month) if month else None
    try:
        with console.status("sending reminders ..."):
            result = remind_late_units(month=chosen)
    except SettingsError as exc:
        raise FupinError(str(exc)) from exc
    console.print(
        f"{result['month']}: reminded {len(result['reminded'])} unit(s): {', '.join(result['reminded']) or '-'}"
    )
    for detail in result["sent"]:
        console.print(f"  mail: {detail}")


def register(app: typer.Typer) -> None:
    app.command()(publish)
    app.command()(remind)
