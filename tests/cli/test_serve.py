"""`fupin serve`: its address for other commands, the inbox watch and its trigger, the alert trigger's states,
pool limits and client retries, and the switch to PostgreSQL (the whole cycle: tests/flows/test_deployments.py)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import create_engine, inspect

from config import CONFIG_DIR, Config
from core.served import served_api_url, served_file
from core.settings import Settings
from fupin.inbox_watch import InboxWatch, next_sweep
from fupin.office import POOL_CONCURRENCY, Office, client_env, ensure_pool, pool_name, prefect_database_url
from fupin.running import choose_mode

FUPIN = [sys.executable, "-m", "fupin.cli"]


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
    assert done.returncode == 3  # could not do its work: the port is taken
    assert f"already answers at http://127.0.0.1:{busy.server_port}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_children_and_workers_retry_transient_api_errors_and_operators_settings_win() -> None:
    env = client_env("http://h:4200/api", {"PREFECT_CLIENT_MAX_RETRIES": "9", "PREFECT_API_URL": "http://old/api"})
    assert env["PREFECT_API_URL"] == "http://h:4200/api"
    assert env["PREFECT_CLIENT_MAX_RETRIES"] == "9"
    assert {"500", "503"} <= set(env["PREFECT_CLIENT_RETRY_EXTRA_CODES"].split(","))
    office = Office(Settings.from_env({"FUPIN_HOME": "/srv/fupin"}), database_url="postgresql://u@db/prefect")
    server = office.env()
    assert server["PREFECT_API_DATABASE_CONNECTION_URL"] == "postgresql+asyncpg://u@db/prefect"
    assert int(server["PREFECT_SERVER_DATABASE_TIMEOUT"]) > 10  # Prefect's default statement timeout, too short
    assert server["PREFECT_CLIENT_RETRY_EXTRA_CODES"] == env["PREFECT_CLIENT_RETRY_EXTRA_CODES"]


def test_the_watch_looks_hourly_at_half_past_from_the_1st_to_the_deadline_day(cfg: Config) -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    assert next_sweep(dt.datetime(2020, 10, 3, 9, 29, tzinfo=tz), cfg.calendar).hour == 9
    assert next_sweep(dt.datetime(2020, 10, 3, 9, 30, tzinfo=tz), cfg.calendar).hour == 10
    last = dt.datetime(2020, 10, cfg.calendar.deadline_day, 23, 30, tzinfo=tz)
    assert next_sweep(last, cfg.calendar) == dt.datetime(2020, 11, 1, 0, 30, tzinfo=tz)
    assert next_sweep(dt.datetime(2020, 12, 20, tzinfo=tz), cfg.calendar) == dt.datetime(2021, 1, 1, 0, 30, tzinfo=tz)


@dataclass
class Serving:
    """A running `fupin serve --no-worker` (nothing executes: runs stay scheduled where tests can see them)."""

    home: Path
    proc: subprocess.Popen
    log: Path
    api_url: str = ""


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory, free_tcp_port_factory) -> Iterator[Serving]:
    root = tmp_path_factory.mktemp("serving")
    config_dir = root / "config"
    shutil.copytree(CONFIG_DIR, config_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FUPIN_"))}
    env.update(
        {
            "FUPIN_HOME": str(root / "home"),
            "FUPIN_CONFIG_DIR": str(config_dir),
            "FUPIN_WAREHOUSE_URL": f"sqlite:///{root / 'warehouse.db'}",
            "FUPIN_SERVE_PORT": str(free_tcp_port_factory()),
        }
    )
    log = root / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*FUPIN, "serve", "--no-worker"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Serving(root / "home", proc, log)
    try:
        deadline = time.monotonic() + 240
        while "Prefect UI:" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        running.api_url = f"http://127.0.0.1:{env['FUPIN_SERVE_PORT']}/api"
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(90)


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.xdist_group("serve-cli")  # one `fupin serve` for these tests: started once
def test_serve_leaves_its_address_for_other_commands_and_takes_it_away(serving: Serving) -> None:
    recorded = json.loads(served_file(serving.home / "prefect").read_text(encoding="utf-8"))
    assert recorded["api_url"] == serving.api_url and recorded["pid"] == serving.proc.pid
    assert served_api_url(serving.home / "prefect", environ={}) == serving.api_url
    assert oct(served_file(serving.home / "prefect").stat().st_mode & 0o777) == "0o600"
    environ: dict[str, str] = {}
    settings = Settings.from_env({"FUPIN_HOME": str(serving.home)})
    assert choose_mode(settings, environ).api_url == serving.api_url
    assert environ["PREFECT_API_URL"] == serving.api_url
    assert environ["PREFECT_CLIENT_MAX_RETRIES"] == "6", "a command on the served API retries like serve's children"
    patient = {"PREFECT_CLIENT_MAX_RETRIES": "2"}
    choose_mode(settings, patient)
    assert patient["PREFECT_CLIENT_MAX_RETRIES"] == "2", "what the operator set wins"


def _client(api_url: str):
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api_url)


def _runs_of(api_url: str, deployment: str) -> list:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with _client(api_url) as client:
        return client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])))


def _wait_for(probe, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (found := probe()) and time.monotonic() < deadline:
        time.sleep(1)
    return found


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.xdist_group("serve-cli")  # one `fupin serve` for these tests: started once
def test_the_pool_is_capped_and_deployments_carry_their_limits(serving: Serving) -> None:
    with _client(serving.api_url) as client:
        assert client.read_work_pool("fupin").concurrency_limit == POOL_CONCURRENCY
        close = client.read_deployment_by_name("monthly-close/monthly-close")
        files = client.read_deployment_by_name("ingest-file/ingest-file")
    assert (close.global_concurrency_limit.limit, files.global_concurrency_limit.limit) == (1, 2)
    ensure_pool(serving.api_url, "fupin", limit=9)  # another host's worker starting: the pool keeps its limit
    with _client(serving.api_url) as client:
        assert client.read_work_pool("fupin").concurrency_limit == POOL_CONCURRENCY


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.xdist_group("serve-cli")  # one `fupin serve` for these tests: started once
def test_a_new_file_starts_one_sweep_an_empty_inbox_or_a_known_file_none(serving: Serving, cfg: Config) -> None:
    inbox = serving.home / "inbox"
    inbox.mkdir(exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    watch = InboxWatch(inbox, frozenset(u.code for u in cfg.units), cfg.calendar, serving.api_url, due=now)

    assert watch.tick(now) == 0
    assert watch.due > now and watch.tick(now) is None

    (inbox / "dongcheng").mkdir()
    (inbox / "dongcheng" / "2020-10_东城区.xlsx").write_bytes(b"not read by the watch")
    watch.due = now
    assert watch.tick(now) == 1
    (sweep,) = _wait_for(lambda: _runs_of(serving.api_url, "ingest-inbox"))
    assert sweep.state.is_scheduled()
    watch.due = now
    assert watch.tick(now) == 0  # the same file an hour later (its sweep has not run, no worker here): no new run
    time.sleep(5)  # either look, had it emitted, would have made a second run by now
    assert len(_runs_of(serving.api_url, "ingest-inbox")) == 1


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.xdist_group("serve-cli")  # one `fupin serve` for these tests: started once
def test_crashed_and_failed_runs_alert_but_a_rejected_one_does_not(serving: Serving) -> None:
    """Runs created directly in their final state, as the sweep records each file: Prefect names the event after the
    state's name (prefect.flow-run.Rejected for a FAILED state named Rejected), and the trigger expects only
    Failed and Crashed."""
    from prefect.states import Crashed, Failed

    with _client(serving.api_url) as client:
        deployment = client.read_deployment_by_name("ingest-file/ingest-file")
        made = {
            label: client.create_flow_run_from_deployment(
                deployment.id, parameters={"path": f"/drop/{label}.xlsx"}, state=state, name=f"ingest-file {label}"
            ).id
            for label, state in {
                "rejected": Failed(name="Rejected", message="退回 / rejected: cell C7"),
                "crashed": Crashed(message="the process died"),
                "failed": Failed(message="a bug"),
            }.items()
        }

    def alerted() -> set[UUID]:
        runs = _runs_of(serving.api_url, "notify-failure")
        return {UUID(str(r.parameters["flow_run_id"]).removeprefix("prefect.flow-run.")) for r in runs}

    assert _wait_for(lambda: {made["crashed"], made["failed"]} <= alerted()), alerted()
    time.sleep(5)
    assert made["rejected"] not in alerted()
    assert len(_runs_of(serving.api_url, "notify-failure")) == 2


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.xdist_group("serve-cli")  # one `fupin serve` for these tests: started once
def test_the_office_worker_takes_a_new_run_at_once_not_at_its_next_poll(serving: Serving, tmp_path: Path) -> None:
    """The worker polls every 60 s here, yet takes a run created after its first poll within seconds: the run's
    Scheduled event woke it. A pool of its own, so that nothing of the office's runs."""
    from prefect.client.schemas.actions import WorkPoolCreate

    with _client(serving.api_url) as client:
        client.create_work_pool(WorkPoolCreate(name="wake-test", type="process"))
        flow_id = client.read_deployment_by_name("ingest-inbox/ingest-inbox").flow_id
        deployment_id = client.create_deployment(
            flow_id=flow_id,
            name="wake-test",
            work_pool_name="wake-test",
            entrypoint="flows/ingest_inbox.py:ingest_inbox",
            job_variables={"command": f"{sys.executable} -c pass"},
        )
    env = client_env(serving.api_url, {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")})
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_WORKER_QUERY_SECONDS": "60"})
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "fupin.office_worker", "--pool", "wake-test", "--name", "wake-test"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert _wait_for(lambda: "started!" in log.read_text(errors="replace")), log.read_text(errors="replace")
        time.sleep(3)  # its first poll is over: the next is a minute away
        with _client(serving.api_url) as client:
            run = client.create_flow_run_from_deployment(deployment_id)
            started = time.monotonic()
            while client.read_flow_run(run.id).state.is_scheduled() and time.monotonic() - started < 30:
                time.sleep(0.2)
            taken = time.monotonic() - started
            state = client.read_flow_run(run.id).state
        assert not state.is_scheduled() and taken < 10, (taken, state, log.read_text(errors="replace")[-2000:])
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log.read_text(errors="replace")[-2000:]


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.xdist_group("serve-cli")  # one `fupin serve` for these tests: started once
def test_zz_serve_stops_on_sigterm_and_clears_its_address(serving: Serving) -> None:
    serving.proc.send_signal(signal.SIGTERM)
    assert serving.proc.wait(90) == 0
    assert not served_file(serving.home / "prefect").exists()
    assert served_api_url(serving.home / "prefect", environ={}) is None
