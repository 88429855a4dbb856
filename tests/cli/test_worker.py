"""`fupin worker`: joins the office's pool from another host through the server's API, or says why it cannot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import Settings
from fupin.commands.worker import api_url_of
from fupin.office import POOL_CONCURRENCY, Office

FUPIN = [sys.executable, "-m", "fupin.cli", "worker"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FUPIN_"))}
    return {**env, "FUPIN_HOME": str(home), **extra}


def test_the_ui_address_or_the_api_address_both_do() -> None:
    assert api_url_of("http://prefect.office.lan:4200") == "http://prefect.office.lan:4200/api"
    assert api_url_of("http://prefect.office.lan:4200/api/") == "http://prefect.office.lan:4200/api"


def test_without_an_api_address_it_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(FUPIN, env=_env(tmp_path), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "--api" in done.stderr and "Traceback" not in done.stderr


def test_no_server_at_the_address_means_it_could_not_work(tmp_path: Path) -> None:
    done = subprocess.run(
        [*FUPIN, "--api", "http://127.0.0.1:9/api"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "http://127.0.0.1:9/api" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.prefect
@pytest.mark.slow
def test_a_worker_on_another_host_joins_the_pool_and_stops_on_sigterm(tmp_path: Path, free_tcp_port) -> None:
    from prefect.client.orchestration import SyncPrefectClient

    office = Office(Settings.from_env({"FUPIN_HOME": str(tmp_path / "server")}), port=free_tcp_port)
    office.start_server()
    worker = None
    try:
        log = tmp_path / "worker.log"
        with open(log, "wb") as out:
            worker = subprocess.Popen(
                [*FUPIN, "--api", office.ui_url, "--name", "host-b", "--poll-seconds", "1"],
                env=_env(tmp_path / "shared"),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        with SyncPrefectClient(office.api_url) as client:
            while not [w for w in _workers(client) if w.name == "host-b"]:
                assert worker.poll() is None, log.read_text(errors="replace")[-2000:]
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
                time.sleep(1)
            assert client.read_work_pool("fupin").concurrency_limit == POOL_CONCURRENCY
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        office.stop()


def _workers(client) -> list:
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

    try:
        return client.read_workers_for_work_pool("fupin")
    except (ObjectNotFound, PrefectHTTPStatusError):  # the pool is not there until the worker made it
        return []
