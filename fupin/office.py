"""The office's local Prefect stack: server, work pool, deployments, worker; child processes run as one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import CannotWork
from core.served import answers
from core.settings import Settings
from fupin.engine import SOCKET_ENV, connect

PROJECT_DIR = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]
FUPIN = [sys.executable, "-m", "fupin.cli"]

# Runs the pool executes at once, over all its workers. On 2 cores each flow-run process costs seconds of CPU to
# start and the server needs a core of its own to answer the UI: 4 keeps both busy without starving the UI. The
# per-deployment limits in prefect.yaml add up to more, so no one kind of run can take every slot.
POOL_CONCURRENCY = 4

# Every process that talks to the API (server's children, workers, their flow runs) rides out a busy or restarting
# server: 500/502/503/504 and dropped connections are retried, backing off 2, 4 … 64 s (about 2 minutes in all).
CLIENT_RETRIES = {
    "PREFECT_CLIENT_MAX_RETRIES": "6",
    "PREFECT_CLIENT_RETRY_EXTRA_CODES": "500,502,503,504",
    "PREFECT_CLIENT_RETRY_JITTER_FACTOR": "0.5",
}

# Fewer, larger writes: SQLite takes one writer at a time, and each event batch or log flush is a transaction.
# (Prefect 3.9 has no switch for SQLite's locking itself; it already runs WAL with a 60 s busy timeout.) Events are
# stored every 10 s: a flush every 3 s held the lock often enough during a close that recording its 48 file runs
# took from 2.5 s to 10 s (bench/close.py, same machine); the UI's event feed lags by up to 10 s, alerts do not
# (automations read the event stream, not the table).
FEWER_WRITES = {
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "10",
    "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "5",
}

# A PostgreSQL-backed server serves several workers: more connections, and a statement timeout that a busy close
# does not hit (Prefect's default is 10 s).
POSTGRES_SERVER = {
    "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": "10",
    "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW": "20",
    "PREFECT_SERVER_DATABASE_TIMEOUT": "30",
    "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "15",
}


def client_env(api_url: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process that works for a Prefect API: pointed at it, with patient retries (settings
    the operator set explicitly win)."""
    env = dict(os.environ if environ is None else environ)
    for name, value in {**CLIENT_RETRIES, **FEWER_WRITES, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}.items():
        env.setdefault(name, value)
    env["PREFECT_API_URL"] = api_url
    # The deployments' command is `python -m fupin.engine` (prefect.yaml): this environment's Python, with this
    # project installed, whether or not whoever started us activated it.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH") or os.defpath])
    return env


def pool_name(project_dir: Path = PROJECT_DIR) -> str:
    """The work pool prefect.yaml's deployments run on (declared once there, under definitions:)."""
    spec = yaml.safe_load((project_dir / "prefect.yaml").read_text(encoding="utf-8"))
    (name,) = {d["work_pool"]["name"] for d in spec["deployments"]}
    return name


def prefect_database_url(url: str) -> str:
    """Prefect's server talks to PostgreSQL through asyncpg: accept the warehouse-style postgresql:// URL too."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


@dataclass
class Office:
    """What `fupin serve` runs; `start()` brings it up in order, `stop()` takes down all it started."""

    settings: Settings
    host: str = "127.0.0.1"
    port: int = 4200
    database_url: str | None = None
    poll_seconds: float = 5.0
    project_dir: Path = PROJECT_DIR
    children: list[subprocess.Popen] = field(default_factory=list)
    web: subprocess.Popen | None = None
    warm: subprocess.Popen | None = None

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    def env(self) -> dict[str, str]:
        """The children's environment: Prefect's data under FUPIN_HOME, everyone pointed at this server."""
        env = client_env(self.api_url)
        env.update(
            {
                "PREFECT_HOME": str(self.settings.paths.prefect_home),
                "PREFECT_SERVER_API_HOST": self.host,
                "PREFECT_SERVER_API_PORT": str(self.port),
                "PREFECT_WORKER_QUERY_SECONDS": str(self.poll_seconds),
                "FUPIN_HOME": str(self.settings.home),
                SOCKET_ENV: str(self.warm_socket),
            }
        )
        # Alert links point here unless the operator named a public address for the UI.
        env.setdefault("FUPIN_UI_URL", self.ui_url)
        if self.database_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_database_url(self.database_url)
            for name, value in POSTGRES_SERVER.items():
                env.setdefault(name, value)
        return env

    @property
    def warm_socket(self) -> Path:
        """Where the warm process this office starts listens (fupin/warm.py); the worker's runs ask it first."""
        return self.settings.paths.prefect_home / "warm.sock"

    def healthy(self) -> bool:
        return api_answers(self.api_url)

    def _spawn(self, args: list[str], log_name: str, command: list[str] = PREFECT) -> subprocess.Popen:
        log = open(self.settings.paths.logs / log_name, "ab")  # noqa: SIM115 - the child owns it until it exits
        proc = subprocess.Popen(
            [*command, *args],
            cwd=self.project_dir,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.children.append(proc)
        return proc

    def _run(self, args: list[str], what: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*PREFECT, *args],
            check=False,
            cwd=self.project_dir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 and what:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            raise CannotWork(f"{what} failed (prefect {' '.join(args)}): " + " | ".join(tail))
        return done

    def start_server(self, timeout: float = 120.0) -> None:
        if self.healthy():
            raise CannotWork(f"a Prefect server already answers at {self.ui_url}: stop it or choose another --port")
        self.settings.paths.ensure()
        self.settings.paths.prefect_home.mkdir(parents=True, exist_ok=True)
        server = self._spawn(["server", "start", "--host", self.host, "--port", str(self.port)], "prefect-server.log")
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if server.poll() is not None or time.monotonic() > deadline:
                log = self.settings.paths.logs / "prefect-server.log"
                raise CannotWork(f"the Prefect server did not start at {self.ui_url}; see {log}")
            time.sleep(0.5)

    def deploy(self) -> str:
        """Create the process work pool if missing, then deploy every deployment of prefect.yaml (idempotent)."""
        pool = pool_name(self.project_dir)
        self.ensure_pool(pool)
        self._run(["--no-prompt", "deploy", "--all"], what="deploying prefect.yaml")
        return pool

    def ensure_pool(self, pool: str) -> None:
        ensure_pool(self.api_url, pool)

    def start_warm(self) -> subprocess.Popen:
        """The warm process the worker's runs are forked from (it imports for a few seconds: start it early)."""
        self.warm = self._spawn(["-m", "fupin.warm", str(self.warm_socket)], "warm.log", command=[sys.executable])
        return self.warm

    def start_worker(self, pool: str, warm_timeout: float = 60.0) -> None:
        """The worker, once the warm process listens (or has stopped, or did not in time: runs then start cold)."""
        warm = self.warm or self.start_warm()
        deadline = time.monotonic() + warm_timeout
        while warm.poll() is None and time.monotonic() < deadline and not warm_listens(self.warm_socket):
            time.sleep(0.1)
        self._spawn([], "prefect-worker.log", command=worker_command(pool))

    def start_web(self) -> None:
        """The platform (`fupin web`, on FUPIN_WEB_HOST:FUPIN_WEB_PORT) beside the UI: pointed at this server, its
        submissions are ingest-file runs here."""
        self.web = self._spawn(["web"], "web.log", command=FUPIN)

    def wait_for_web(self, timeout: float = 60.0) -> str | None:
        """Where this machine's own commands reach the platform it started (a wildcard address means loopback),
        once it answers; None when it stopped (a busy port) or did not answer in time."""
        env = self.env()
        host = env.get("FUPIN_WEB_HOST") or "127.0.0.1"
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
        url = f"http://{host}:{env.get('FUPIN_WEB_PORT') or 8000}"
        deadline = time.monotonic() + timeout
        while self.web is not None and self.web.poll() is None and time.monotonic() < deadline:
            if answers(f"{url}/healthz", timeout=2):
                return url
            time.sleep(0.3)
        return None

    def dead_child(self) -> subprocess.Popen | None:
        """A stopped server or worker; the platform stopping (a busy port) does not take the pipeline down, nor does
        the warm process (runs then start cold)."""
        return next((p for p in self.children if p not in (self.web, self.warm) and p.poll() is not None), None)

    def stop(self, grace: float = 20.0) -> None:
        """Stop the worker, then the server, each with its whole process group; kill what lingers."""
        for proc in reversed(self.children):
            if proc.poll() is None:
                _signal_group(proc, signal.SIGINT)
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait(5)
            _signal_group(proc, signal.SIGKILL)  # leftovers of the group, e.g. a flow run the worker started
        self.children.clear()


def api_answers(api_url: str, timeout: float = 2.0) -> bool:
    """True when a Prefect API answers its health check at `api_url` (…/api)."""
    return answers(f"{api_url.rstrip('/')}/health", timeout)


def warm_listens(path: Path) -> bool:
    """True when a warm process accepts connections at `path`."""
    sock = connect(str(path))
    if sock is None:
        return False
    sock.close()
    return True


def ensure_pool(api_url: str, pool: str, limit: int = POOL_CONCURRENCY) -> None:
    """The process work pool, created with Prefect's default job template and `limit` concurrent runs unless it
    exists; an existing pool keeps its settings, and gets `limit` only if it has no limit at all."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with SyncPrefectClient(api_url) as client:
        try:
            existing = client.read_work_pool(pool)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            with contextlib.suppress(ObjectAlreadyExists):  # another host's worker created it a moment ago
                client.create_work_pool(
                    WorkPoolCreate(name=pool, type="process", base_job_template=template, concurrency_limit=limit)
                )
            return
        if existing.concurrency_limit is None:
            client.update_work_pool(pool, WorkPoolUpdate(concurrency_limit=limit))


def worker_command(pool: str, name: str | None = None) -> list[str]:
    """The office's process worker on `pool` (fupin/office_worker.py), named after this host unless told."""
    name = name or f"fupin-{os.uname().nodename}"
    return [sys.executable, "-m", "fupin.office_worker", "--pool", pool, "--name", name]


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
