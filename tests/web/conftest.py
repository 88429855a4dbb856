"""The platform over a real SQLite warehouse in a private FUPIN_HOME, driven over HTTP with Starlette's client."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from config import Config
from core.settings import Settings
from flows.runtime import Runtime, load_runtime
from fupin.web.app import create_app
from fupin.web.settings import WebSettings
from tasks.accounts.lockout import LockoutPolicy
from tasks.accounts.users import add_user, set_password
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

MONTH = "2020-09"
PASSWORD = "a long enough secret"
CLERKS = {"cy-clerk": "chaoyang", "hd-clerk": "haidian", "hr-clerk": "hr-social-security"}
FAST_LOCKOUT = LockoutPolicy(slow_after=3, first_delay=dt.timedelta(seconds=30), lock_after=5)


@dataclass
class Platform:
    rt: Runtime
    web: WebSettings
    home: Path

    def client(self) -> TestClient:
        return TestClient(create_app(self.rt, self.web), follow_redirects=False)

    def signed_in(self, username: str) -> TestClient:
        client = self.client()
        answer = client.post("/api/login", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return client


@pytest.fixture(scope="session")
def warehouse_template(tmp_path_factory: pytest.TempPathFactory, cfg: Config) -> Path:
    """A SQLite warehouse made once with three clerks (朝阳区, 海淀区, a bureau) and an office reviewer, all with
    PASSWORD; each test gets a copy (argon2 and the migrations cost seconds)."""
    path = tmp_path_factory.mktemp("web") / "warehouse.db"
    engine = make_engine(f"sqlite:///{path}")
    init_warehouse(engine, cfg, months=[MONTH])
    for name, unit in CLERKS.items():
        set_password(engine, add_user(engine, name, "clerk", unit), PASSWORD)
    set_password(engine, add_user(engine, "office", "reviewer"), PASSWORD)
    engine.dispose()
    return path


@pytest.fixture
def platform(fupin_home: Path, monkeypatch: pytest.MonkeyPatch, warehouse_template: Path) -> Iterator[Platform]:
    """The platform on a copy of the template warehouse in a private FUPIN_HOME."""
    # No Prefect API: a submission runs in-process, and any Prefect call fails loudly instead of starting a server.
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")
    shutil.copyfile(warehouse_template, fupin_home / "warehouse.db")
    rt = load_runtime(Settings.from_env())
    web = WebSettings(secret=b"test-only-web-secret-0123456789abcdef", max_upload_bytes=1 << 20, lockout=FAST_LOCKOUT)
    yield Platform(rt, web, fupin_home)
    rt.engine.dispose()


def csrf_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)
