"""`fupin users add|list|disable` through the real Typer app, on a real warehouse in a private FUPIN_HOME."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from config import Config
from core.errors import UsageError
from core.settings import Settings
from fupin.cli import app
from tasks.accounts.passwords import verify_password
from tasks.accounts.sessions import link_user
from tasks.accounts.users import credentials, find_user
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import fct_mail


@pytest.fixture
def engine(fupin_home: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FUPIN_WEB_URL", "https://tianbao.example.org")
    eng = make_engine(Settings.from_env().warehouse_url)
    init_warehouse(eng, cfg, months=["2020-09"])
    yield eng
    eng.dispose()


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_a_new_clerk_gets_a_one_time_link_by_mail(engine, fupin_home: Path) -> None:
    result = run("users", "add", "CY-Zhang", "--unit", "chaoyang")
    assert result.exit_code == 0, result.output
    (link,) = re.findall(r"https://tianbao\.example\.org/set-password/(\S+)", result.output)
    assert getattr(link_user(engine, link), "username", None) == "cy-zhang"
    (eml,) = (fupin_home / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "chaoyang@units.example.org" and link in message.get_body().get_content()
    with engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.kind, fct_mail.c.status)).all() == [("account", "written")]


def test_a_password_from_stdin_needs_no_link(engine) -> None:
    result = run("users", "add", "office-li", "--office", "--admin", "--password-stdin", stdin="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "set-password" not in result.output
    found = credentials(engine, "office-li")
    assert found is not None and found[0].role == "admin" and verify_password(found[1], "a long enough secret")


def test_list_and_disable(engine) -> None:
    assert (
        run("users", "add", "hd-wang", "--unit", "haidian", "--password-stdin", stdin="another long secret\n").exit_code
        == 0
    )
    listed = run("users", "list")
    assert "hd-wang" in listed.output and "haidian" in listed.output
    assert run("users", "disable", "hd-wang").exit_code == 0
    assert not getattr(find_user(engine, "hd-wang"), "is_active", True)
    assert isinstance(run("users", "disable", "nobody").exception, UsageError)


@pytest.mark.parametrize(
    "args",
    [
        ("users", "add", "x-one"),
        ("users", "add", "x-two", "--unit", "chaoyang", "--office"),
        ("users", "add", "x-three", "--unit", "chaoyang", "--admin"),
        ("users", "add", "x-four", "--unit", "atlantis"),
    ],
)
def test_usage_errors(engine, args: tuple[str, ...]) -> None:
    assert isinstance(run(*args).exception, UsageError)
    assert find_user(engine, args[2]) is None
