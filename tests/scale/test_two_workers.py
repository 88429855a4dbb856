"""Several machines, on loopback: a PostgreSQL-backed `fupin serve --no-worker` and two `fupin worker`s close a
60-file month, and every file is in the warehouse exactly once, also when a run is executed twice or retried."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from config import Config
from fupin.demo.reports import write_filled_report
from tests.conftest import PG_ADMIN_URL, TEST_PII_KEY
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import dim_unit, fct_indicator_value, fct_submission

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("scale")]

FUPIN = [sys.executable, "-m", "fupin.cli"]
MONTH = "2020-10"
CLOSE_TIMEOUT = 1800.0
TIMINGS: dict[str, float] = {}


@dataclass
class Office:
    """The server host and its two worker hosts (one FUPIN_HOME, as on shared storage)."""

    root: Path
    env: dict[str, str]
    api_url: str
    engine: Engine
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self, args: list[str], log_name: str) -> subprocess.Popen:
        with open(self.root / log_name, "wb") as log:
            proc = subprocess.Popen(
                [*FUPIN, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.root / name
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for proc in reversed(self.procs):
            tree = _tree(proc.pid)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(90)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for child in tree:  # flow runs a worker started, in sessions of their own
                if child.is_running():
                    child.kill()


def _tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _database(pg_admin: Engine, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop(pg_admin: Engine, url: str) -> None:
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory, pg_admin: Engine, cfg: Config) -> Iterator[Office]:
    root = tmp_path_factory.mktemp("scale")
    prefect_db, warehouse_db = _database(pg_admin, "fupin_t_prefect"), _database(pg_admin, "fupin_t_wh")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FUPIN_"))}
    env.update(
        {
            "FUPIN_HOME": str(root / "home"),
            "FUPIN_WAREHOUSE_URL": warehouse_db,
            "FUPIN_PII_KEY": TEST_PII_KEY,
            "FUPIN_SERVE_PORT": str(port),
            "FUPIN_ALERT_WINDOW_SECONDS": "0",
        }
    )
    engine = make_engine(warehouse_db)
    init_warehouse(engine, cfg, months=[MONTH])
    office = Office(root, env, f"http://127.0.0.1:{port}/api", engine)
    try:
        started = time.monotonic()
        server = office.start(["serve", "--no-worker", "--prefect-db", prefect_db, "--poll-seconds", "1"], "serve.log")
        while "Prefect UI:" not in office.log("serve.log"):
            assert server.poll() is None, office.log("serve.log")[-3000:]
            assert time.monotonic() - started < 300, office.log("serve.log")[-3000:]
            time.sleep(0.5)
        TIMINGS["serve ready (s)"] = time.monotonic() - started
        _pause_schedules(office.api_url)
        for name in ("host-a", "host-b"):
            office.start(["worker", "--api", office.api_url, "--name", name, "--poll-seconds", "1"], f"{name}.log")
        yield office
    finally:
        office.stop()
        engine.dispose()
        for url in (prefect_db, warehouse_db):
            _drop(pg_admin, url)
        print("\nscale timings:", {k: round(v, 1) for k, v in TIMINGS.items()})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client(api_url: str):
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api_url)


def _pause_schedules(api_url: str) -> None:
    with _client(api_url) as client:
        for deployment in client.read_deployments():
            for schedule in deployment.schedules:
                client.update_deployment_schedule(deployment.id, schedule.id, active=False)


def _wait_final(api_url: str, run_id, timeout: float):
    deadline = time.monotonic() + timeout
    with _client(api_url) as client:
        while True:
            run = client.read_flow_run(run_id)
            if run.state and run.state.is_final():
                return run
            assert time.monotonic() < deadline, f"{run.name} still {run.state and run.state.name}"
            time.sleep(2)


def _cells(cfg: Config, unit_code: str) -> int:
    form = cfg.form(cfg.unit(unit_code).form_code)
    return len(form.rows) * len(cfg.columns(form))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _month_files(cfg: Config, inbox: Path) -> list[Path]:
    """60 good files: every unit's first version, then 24 corrected re-submissions (new bytes, new versions)."""
    files = [write_filled_report(cfg, u, MONTH, inbox / f"{MONTH}_{u.code}.xlsx") for u in cfg.units]
    files += [
        write_filled_report(cfg, u, MONTH, inbox / f"{MONTH}_{u.code}_更正.xlsx", seed=1)
        for u in cfg.units[: 60 - len(cfg.units)]
    ]
    assert len(files) == 60 and len({_sha(p) for p in files}) == 60
    return files


def _loaded(engine: Engine) -> dict[str, tuple[str, str, int, int | None, bool]]:
    """Each loaded file by SHA-256: unit, status, fact rows, version, current."""
    facts = (
        select(fct_indicator_value.c.submission_id, func.count().label("n"))
        .group_by(fct_indicator_value.c.submission_id)
        .subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                fct_submission.c.sha256,
                dim_unit.c.unit_code,
                fct_submission.c.status,
                facts.c.n,
                fct_submission.c.version,
                fct_submission.c.is_current,
            )
            .join(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key)
            .outerjoin(facts, facts.c.submission_id == fct_submission.c.submission_id)
        ).all()
    return {r.sha256: (r.unit_code, r.status, r.n or 0, r.version, r.is_current) for r in rows}


def _exactly_once(engine: Engine, cfg: Config, shas: dict[str, str]) -> dict:
    """Every file (name -> SHA-256, taken before the close moved it to inbox/done/) accepted once, whole."""
    loaded = _loaded(engine)
    for name, sha in shas.items():
        unit, status, facts, _, _ = loaded[sha]  # a KeyError names a file that never arrived
        assert (status, facts) == ("accepted", _cells(cfg, unit)), name
    by_unit: dict[str, list[int | None]] = {}
    for unit, status, _, version, _ in loaded.values():
        if status == "accepted":
            by_unit.setdefault(unit, []).append(version)
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in by_unit.values()), by_unit  # no version twice
    current = Counter(unit for unit, _, _, _, is_current in loaded.values() if is_current)
    assert set(current.values()) == {1}, current
    return loaded


# What the UI's run list, deployments and work-pool pages ask the API for.
UI_CALLS = [
    ("flow_runs/filter", {"limit": 50, "sort": "START_TIME_DESC"}),
    ("deployments/filter", {"limit": 50}),
    ("work_pools/filter", {}),
]


def _ui_latencies(api_url: str, stop: threading.Event, seen: list[float]) -> None:
    """While the close runs, time the API calls behind the UI's pages, every 2 s."""
    while not stop.wait(2):
        for path, body in UI_CALLS:
            request = urllib.request.Request(
                f"{api_url}/{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
            )
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    answer.read()
            except OSError:
                seen.append(60.0)
                continue
            seen.append(time.monotonic() - started)


def test_two_workers_close_a_60_file_month_with_each_file_loaded_once(office: Office, cfg: Config) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    files = _month_files(cfg, Path(office.env["FUPIN_HOME"]) / "inbox")
    shas = {p.name: _sha(p) for p in files}
    latencies: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_ui_latencies, args=(office.api_url, stop, latencies), daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        with temporary_settings({PREFECT_API_URL: office.api_url}):
            close = run_deployment(
                "monthly-close/monthly-close", parameters={"month": MONTH}, timeout=CLOSE_TIMEOUT, poll_interval=5
            )
    finally:
        stop.set()
        sampler.join(70)
    TIMINGS["close of 60 files (s)"] = time.monotonic() - started
    if latencies:
        TIMINGS["UI API calls during the close: median (s)"] = statistics.median(latencies)
        TIMINGS["UI API calls during the close: slowest (s)"] = max(latencies)
        TIMINGS["UI API calls sampled"] = float(len(latencies))

    assert close.state.is_completed(), close.state
    loaded = _exactly_once(office.engine, cfg, shas)
    assert len(loaded) == 60
    assert not list((Path(office.env["FUPIN_HOME"]) / "inbox").glob("*.xlsx")), "every file left the inbox"
    with _client(office.api_url) as client:
        runs = client.read_flow_runs()
    states = Counter(r.state.name for r in runs if r.state)
    assert not states.get("Crashed"), states
    assert all(p.poll() is None for p in office.procs), "the server or a worker stopped during the close"
    for name in ("host-a", "host-b"):  # who ran what, for the report (a worker's log holds its runs' output)
        finished = re.findall(r"Flow run 'ingest-file [^']*' - Finished in state", office.log(f"{name}.log"))
        TIMINGS[f"ingest-file runs on {name}"] = float(len(finished))


def test_a_run_executed_twice_at_once_loads_its_file_once(office: Office, cfg: Config) -> None:
    """Prefect's duplicate-execution reports: the same ingest-file parameters through the engine twice, at once."""
    unit = cfg.units[-1]
    path = write_filled_report(cfg, unit, MONTH, office.root / "drop" / f"{MONTH}_{unit.code}_twice.xlsx", seed=7)
    code = (
        "import sys; from flows.ingest_file import ingest_file; "
        "s = ingest_file(sys.argv[1], return_state=True); print('STATE', s.type.value, s.name)"
    )
    env = {**office.env, "PREFECT_API_URL": office.api_url}
    started = time.monotonic()
    twins = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [t.communicate(timeout=600)[0].decode(errors="replace") for t in twins]
    TIMINGS["two simultaneous runs of one file (s)"] = time.monotonic() - started

    finals = [next((line for line in o.splitlines() if line.startswith("STATE")), o[-1500:]) for o in outputs]
    assert not any("CRASHED" in f for f in finals), finals
    assert any("COMPLETED" in f for f in finals), finals
    unit_code, status, facts, _, _ = _loaded(office.engine)[_sha(path)]
    assert (unit_code, status, facts) == (unit.code, "accepted", _cells(cfg, unit.code))
    _exactly_once(office.engine, cfg, {path.name: _sha(path)})


def test_a_retried_run_leaves_its_file_loaded_once(office: Office, cfg: Config) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.states import Scheduled

    before = _loaded(office.engine)
    with _client(office.api_url) as client:
        done = [
            r
            for r in client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["ingest-file"]))
            )
            if r.state and r.state.is_completed()
        ]
        assert done, "the close left no completed ingest-file run to retry"
        run = done[0]
        client.set_flow_run_state(run.id, Scheduled(name="AwaitingRetry"), force=True)  # what the UI's Retry does
    started = time.monotonic()
    retried = _wait_final(office.api_url, run.id, timeout=600)
    TIMINGS["a retried run (s)"] = time.monotonic() - started

    assert retried.state.is_completed(), retried.state
    assert retried.run_count >= 1, "the retry ran (a run the sweep recorded had never run in a worker)"
    assert _loaded(office.engine) == before
