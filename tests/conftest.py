"""Session-wide fixtures: the config, a real SQLite file or PostgreSQL database per test, FUPIN_HOME, and Prefect."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from config import Config, load_config
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

PG_ADMIN_URL = os.environ.get("FUPIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_PII_KEY = "test-only-pii-key-not-a-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def cfg() -> Config:
    return load_config()


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {reason}")
    pytest.skip(f"PostgreSQL unreachable: {reason}")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the server's `test` database, used to create one database per test."""
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "unreachable"
        engine.dispose()
        _pg_unavailable(str(exc).splitlines()[0])
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    name = f"fupin_t_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_url(request: pytest.FixtureRequest) -> str:
    """The same test on a real SQLite file and on a real PostgreSQL database."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def engine(warehouse_url: str, cfg: Config) -> Iterator[Engine]:
    """An initialised warehouse (migrated, seeded, views) on SQLite and on PostgreSQL."""
    eng = make_engine(warehouse_url)
    init_warehouse(eng, cfg, months=["2020-12"])
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str, cfg: Config) -> Iterator[Engine]:
    """An initialised SQLite warehouse, for tests whose point is not the dialect."""
    eng = make_engine(sqlite_url)
    init_warehouse(eng, cfg, months=["2020-12"])
    yield eng
    eng.dispose()


@pytest.fixture
def fupin_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private FUPIN_HOME with the environment a CLI call or flow run reads at its start."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FUPIN_HOME", str(home))
    monkeypatch.setenv("FUPIN_PII_KEY", TEST_PII_KEY)
    monkeypatch.delenv("FUPIN_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("FUPIN_SMTP_HOST", raising=False)
    monkeypatch.delenv("FUPIN_CONFIG_DIR", raising=False)
    return home


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """One real Prefect API (a temporary server) for the whole session; request it from tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
