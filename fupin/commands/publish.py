"""`fupin publish` and `fupin remind`: the month's consolidated workbook, and reminders to units that owe a report."""

from __future__ import annotations

import typer
from rich.console import Console

from core.errors import FupinError
from core.month import Month
from core.settings import SettingsError

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name

DRY_RUN = typer.Option(False, "--dry-run", help="Print who would receive what; send nothing (and lock nothing).")


def publish(
    month: str = typer.Option(..., "--month", help="Reporting month, YYYY-MM (e.g. 2020-09)."),
    send: bool = typer.Option(
        False,
        "--send",
        help="Also send the workbook, the districts' list-ready notices and any receipt, rejection or return "
        "still owed (SMTP if FUPIN_SMTP_HOST is set, else .eml files in FUPIN_HOME/outbox/).",
    ),
    final: bool = typer.Option(
        False, "--final", help="The final publication: lock the month afterwards (fupin reopen opens one unit)."
    ),
    dry_run: bool = DRY_RUN,
) -> None:
    """Write the month's consolidated workbook to FUPIN_HOME/outputs/MONTH/ (a new version if anything changed)."""
    from flows.publish_month import publish_month
    from fupin.running import call_flow
    from tasks.intake.provenance import cli_source

    month = Month(month)
    try:
        with console.status(f"publishing {month} ..."):
            params = {"send": send, "final": final, "dry_run": dry_run, "actor": cli_source()}
            result = call_flow(publish_month, month=month, **params)
    except SettingsError as exc:
        raise FupinError(str(exc)) from exc
    state = "new version" if result["created"] else "unchanged, kept"
    console.print(f"{month} v{result['version']} ({state}): [bold]{result['path']}[/]")
    console.print(result["cover"])
    if result["missing"]:
        console.print(f"[yellow]{result['missing']} 个单位尚未报送 / unit(s) have not reported[/]")
    if result["final"]:
        console.print(
            f"{month} 已锁定（本次锁定 {result['locked']} 个单位） / locked"
            if not dry_run
            else f"{month} would be locked (dry run: nothing locked)"
        )
    _print_sent(result["sent"], dry_run)


def _print_sent(sent: list[str], dry_run: bool) -> None:
    if dry_run:
        console.print(f"dry run: {len(sent)} message(s) would be sent, none was / 演练：未发送任何邮件")
    for detail in sent:
        console.print(f"  {'would send' if dry_run else 'mail'}: {detail}")


def remind(
    month: str = typer.Option(None, "--month", help="Reporting month, YYYY-MM (default: the month reported now)."),
    dry_run: bool = DRY_RUN,
) -> None:
    """Remind every unit that has not yet sent an accepted report for the month (once a day at most), now."""
    from flows.remind_late_units import remind_late_units
    from fupin.running import call_flow

    chosen = Month(month) if month else None
    try:
        with console.status("sending reminders ..."):
            result = call_flow(remind_late_units, month=chosen, dry_run=dry_run, when_due=False)
    except SettingsError as exc:
        raise FupinError(str(exc)) from exc
    verb = "would remind" if dry_run else "reminded"
    console.print(
        f"{result['month']}: {verb} {len(result['reminded'])} unit(s): {', '.join(result['reminded']) or '-'}"
    )
    _print_sent(result["sent"], dry_run)


def register(app: typer.Typer) -> None:
    app.command()(publish)
    app.command()(remind)
