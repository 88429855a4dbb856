"""`fupin serve`'s switch to a PostgreSQL-backed Prefect server (the whole cycle: tests/flows/test_deployments.py)."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from core.settings import Settings
from fupin.office import Office, pool_name, prefect_database_url


def test_warehouse_style_urls_become_asyncpg_urls() -> None:
    assert (
        prefect_database_url("postgresql://prefect@db:5432/prefect") == "postgresql+asyncpg://prefect@db:5432/prefect"
    )
    assert prefect_database_url("postgresql+psycopg://u@h/p") == "postgresql+asyncpg://u@h/p"
    assert prefect_database_url("postgresql+asyncpg://u@h/p") == "postgresql+asyncpg://u@h/p"
    assert prefect_database_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def test_the_pool_is_the_one_prefect_yaml_declares() -> None:
    assert pool_name() == "fupin"


@pytest.mark.postgres
@pytest.mark.slow
def test_prefect_server_keeps_its_history_in_postgresql_when_told(pg_url: str, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    office = Office(Settings.from_env({"FUPIN_HOME": str(tmp_path / "home")}), port=port, database_url=pg_url)
    try:
        office.start_server()
        assert office.healthy()
        office.ensure_pool("fupin")
    finally:
        office.stop()
    assert not office.healthy()
    engine = create_engine(pg_url)
    try:
        assert {"flow_run", "deployment", "work_pool"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.exec_driver_sql("select name from work_pool").scalars().all() == ["fupin"]
    finally:
        engine.dispose()
    assert not (tmp_path / "home" / "prefect" / "prefect.db").exists()


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


def test_serve_refuses_a_port_where_a_server_already_answers(tmp_path: Path) -> None:
    busy = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=busy.serve_forever, daemon=True).start()
    env = {**os.environ, "FUPIN_HOME": str(tmp_path / "home"), "FUPIN_SERVE_PORT": str(busy.server_port)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fupin.cli", "serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        busy.shutdown()
    assert done.returncode == 1
    assert f"already answers at http://127.0.0.1:{busy.server_port}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
