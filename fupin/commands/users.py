"""`fupin users add|list|disable`: the platform's accounts (unit clerks, office reviewers, admins)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import UsageError

console = Console(soft_wrap=True)  # links must survive copy and paste, never wrapped mid-token
users_app = typer.Typer(help="Platform accounts: add, list, disable. 平台账户管理。", no_args_is_help=True)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name: a-z 0-9 . _ - (3-64).")],
    unit: Annotated[str | None, typer.Option("--unit", help="The clerk's unit code (config/units.yaml).")] = None,
    office: Annotated[bool, typer.Option("--office", help="An office reviewer (sees every unit, the board).")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="With --office: an administrator.")] = False,
    email: Annotated[str | None, typer.Option("--email", help="Where the link goes (default: the unit's).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input instead of a link.")
    ] = False,
) -> None:
    """Add an account. Without --password-stdin, print a one-time set-password link that expires, and e-mail it."""
    from flows.runtime import load_runtime
    from fupin.web.settings import WebSettings
    from tasks.accounts.sessions import issue_password_link
    from tasks.accounts.users import add_user, set_password

    if (unit is None) == (not office):
        raise UsageError("give --unit CODE or --office (one of them) / 须指定 --unit 或 --office")
    if admin and not office:
        raise UsageError("--admin goes with --office: an administrator belongs to the office")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("no password on standard input / 标准输入中没有密码")
    rt = load_runtime()
    role = "clerk" if unit else ("admin" if admin else "reviewer")
    user = add_user(rt.engine, name, role, unit, email)
    if password is not None:
        set_password(rt.engine, user, password)
        console.print(f"added [bold]{user.username}[/] ({role}{', ' + unit if unit else ''}) with the given password")
        return
    web = WebSettings.from_env(rt.settings)
    link = f"{web.base_url}/set-password/{issue_password_link(rt.engine, user, web.link_lifetime)}"
    hours = int(web.link_lifetime.total_seconds() // 3600)
    console.print(f"added [bold]{user.username}[/] ({role}{', ' + unit if unit else ''})")
    console.print(f"set-password link (one use, expires in {hours} h / 一次性链接，{hours} 小时内有效):")
    console.print(link, markup=False, highlight=False)
    to = email or (rt.config.unit(unit).email if unit else None)
    if to:
        _mail_link(rt, user.username, unit, to, link, hours)
        console.print(f"e-mailed to {to}")


def _mail_link(rt, username: str, unit: str | None, to: str, link: str, hours: int) -> None:
    from tasks.mail.record import send_and_record
    from tasks.mail.send import Mail, sink_from_settings

    name = rt.config.unit(unit).name if unit else "北京市扶贫支援办"
    body = (
        f"{name}：\n\n已为您开通北京市扶贫支援办填报平台账户：{username}\n"
        f"请在 {hours} 小时内打开以下链接设置密码（链接仅可使用一次）：\n{link}\n\n"
        f"An account on the office's reporting platform was opened for you: {username}\n"
        f"Set your password within {hours} hours at the link above (it works once).\n"
    )
    mail = Mail(
        kind="account", to=(to,), subject=f"填报平台账户 / platform account: {username}", body=body, unit_code=unit
    )
    send_and_record(rt.engine, sink_from_settings(rt.settings), mail, rt.settings.mail_from)


@users_app.command("list")
def list_() -> None:
    """List the accounts: name, role, unit, whether active and whether a password is set."""
    from flows.runtime import load_runtime
    from tasks.accounts.users import list_users

    rt = load_runtime()
    table = Table("user", "role", "unit", "active", "password set", title="platform accounts / 平台账户")
    for u in list_users(rt.engine):
        table.add_row(
            u.username, u.role, u.unit_code or "", "yes" if u.is_active else "no", "yes" if u.has_password else "no"
        )
    console.print(table)


@users_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="The user name.")]) -> None:
    """Disable an account; its sessions stop working at once."""
    from flows.runtime import load_runtime
    from tasks.accounts.users import set_active

    user = set_active(load_runtime().engine, name, False)
    console.print(f"disabled [bold]{user.username}[/]")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
