"""`fupin list-passwords`: each district's labor-list password, for the office to give by telephone."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from core.errors import UsageError

console = Console(soft_wrap=True)


def list_passwords(
    district: str = typer.Option(None, "--district", help="Only this district (its code or name, e.g. chaoyang)."),
) -> None:
    """Print the password of each district's encrypted labor list (made on first use, kept 0600 in
    FUPIN_HOME/secrets/). With FUPIN_WEB_URL=off the lists are e-mailed encrypted; give each district its password
    by telephone, never by e-mail."""
    from config import load_config
    from core.settings import Settings
    from tasks.mail.locked_lists import list_passwords as passwords_of
    from tasks.publish.steps import SECRETS_DIR

    settings = Settings.from_env()
    settings.paths.ensure()
    districts = load_config(settings.config_dir).districts
    if district:
        districts = tuple(u for u in districts if district in (u.code, u.name))
        if not districts:
            raise UsageError(f"no district {district!r} / 没有这个区")
    kept = passwords_of(settings.home / SECRETS_DIR, [u.code for u in districts])
    table = Table("区 / district", "code", "名单密码 / list password")
    for unit in districts:
        table.add_row(unit.name, unit.code, kept[unit.code])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("list-passwords")(list_passwords)
