"""The office's local Prefect stack: server, work pool, deployments, worker; child processes run as one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import FupinError
from core.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]
FUPIN = [sys.executable, "-m", "fupin.cli"]


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
    poll_seconds: float = 10.0
    project_dir: Path = PROJECT_DIR
    children: list[subprocess.Popen] = field(default_factory=list)

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    def env(self) -> dict[str, str]:
        """The children's environment: Prefect's data under FUPIN_HOME, everyone pointed at this server."""
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.settings.paths.prefect_home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_WORKER_QUERY_SECONDS": str(self.poll_seconds),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "FUPIN_HOME": str(self.settings.home),
        }
        # Alert links point here unless the operator named a public address for the UI.
        env.setdefault("FUPIN_UI_URL", self.ui_url)
        if self.database_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_database_url(self.database_url)
        return env

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

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
            raise FupinError(f"{what} failed (prefect {' '.join(args)}): " + " | ".join(tail))
        return done

    def start_server(self, timeout: float = 120.0) -> None:
        if self.healthy():
            raise FupinError(f"a Prefect server already answers at {self.ui_url}: stop it or choose another --port")
        self.settings.paths.ensure()
        self.settings.paths.prefect_home.mkdir(parents=True, exist_ok=True)
        server = self._spawn(["server", "start", "--host", self.host, "--port", str(self.port)], "prefect-server.log")
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if server.poll() is not None or time.monotonic() > deadline:
                log = self.settings.paths.logs / "prefect-server.log"
                raise FupinError(f"the Prefect server did not start at {self.ui_url}; see {log}")
            time.sleep(0.5)

    def deploy(self) -> str:
        """Create the process work pool if missing, then deploy every deployment of prefect.yaml (idempotent)."""
        pool = pool_name(self.project_dir)
        self.ensure_pool(pool)
        self._run(["--no-prompt", "deploy", "--all"], what="deploying prefect.yaml")
        return pool

    def ensure_pool(self, pool: str) -> None:
        """The process work pool, created with Prefect's default job template unless it exists (settings kept)."""
        from prefect.client.orchestration import SyncPrefectClient
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.exceptions import ObjectNotFound
        from prefect.workers.process import ProcessWorker

        with SyncPrefectClient(self.api_url) as client:
            try:
                client.read_work_pool(pool)
            except ObjectNotFound:
                client.create_work_pool(
                    WorkPoolCreate(
                        name=pool, type="process", base_job_template=ProcessWorker.get_default_base_job_template()
                    )
                )

    def start_worker(self, pool: str) -> None:
        self._spawn(
            ["worker", "start", "--pool", pool, "--type", "process", "--name", f"fupin-{os.uname().nodename}"],
            "prefect-worker.log",
        )

    def start_web(self) -> None:
        """The platform (`fupin web`, on FUPIN_WEB_HOST:FUPIN_WEB_PORT) beside the UI: pointed at this server, its
        submissions are ingest-file runs here."""
        self._spawn(["web"], "web.log", command=FUPIN)

    def dead_child(self) -> subprocess.Popen | None:
        return next((p for p in self.children if p.poll() is not None), None)

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


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
