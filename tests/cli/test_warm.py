"""The warm start of flow runs: `python -m fupin.engine` forks Prefect's engine from the warm process `fupin serve`
keeps (fupin/warm.py), passes on its streams, signals and exit code, and without one becomes Prefect's own engine.
(A real served run forked warm: tests/flows/test_deployments.py.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from fupin.engine import KILLED, SOCKET_ENV

ENGINE = [sys.executable, "-m", "fupin.engine"]
NO_SUCH_RUN = "not-a-flow-run-id"  # Prefect's engine refuses it before any API call, with exit code 1


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A warm process on a socket under a deliberately long folder (longer than a socket path may be)."""
    folder = tmp_path_factory.mktemp("warm") / ("a-long-folder-name-" * 6)
    folder.mkdir(mode=0o700)
    sock, log = folder / "warm.sock", folder / "warm.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "fupin.warm", str(sock)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "listening" not in log.read_text():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the warm process did not start"
        time.sleep(0.2)
    yield sock, log
    proc.send_signal(signal.SIGINT)
    proc.wait(30)


def _engine(env: dict[str, str], **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run(ENGINE, env=env, capture_output=True, text=True, timeout=120, check=False, **kw)  # type: ignore[call-overload]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    return {**env, "PREFECT__FLOW_RUN_ID": NO_SUCH_RUN, **extra}


def test_a_run_is_forked_warm_with_the_callers_streams_environment_and_exit_code(warm: tuple[Path, Path]) -> None:
    sock, log = warm
    marker = uuid.uuid4().hex
    started = time.perf_counter()
    done = _engine(_env(**{SOCKET_ENV: str(sock), "PREFECT__FLOW_RUN_ID": f"{NO_SUCH_RUN}-{marker}"}))
    took = time.perf_counter() - started

    assert done.returncode == 1, done.stderr
    assert f"{NO_SUCH_RUN}-{marker}" in log.read_text(), "the fork took the caller's environment"
    assert "Invalid flow run id" in done.stderr, "the engine's own output reaches the caller's stderr"
    assert took < 5, f"a warm start imports nothing heavy ({took:.1f} s)"


def test_without_a_warm_process_the_command_is_prefects_own_engine(tmp_path: Path) -> None:
    dead = tmp_path / "warm.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(dead))  # a socket file nobody listens on: a warm process that died

    for env in (_env(), _env(**{SOCKET_ENV: str(dead)}), _env(**{SOCKET_ENV: str(tmp_path / "missing.sock")})):
        done = _engine(env)
        assert done.returncode == 1 and "Invalid flow run id" in done.stderr, done.stderr


def _forked_child(log: Path, marker: str, timeout: float = 60) -> psutil.Process:
    """The process the warm process forked for the run marked `marker` (its log names the pid)."""
    deadline = time.monotonic() + timeout
    while True:
        line = next((ln for ln in log.read_text().splitlines() if marker in ln and "forked as" in ln), None)
        if line:
            return psutil.Process(int(line.rsplit(" ", 1)[1]))
        assert time.monotonic() < deadline, "no run was forked"
        time.sleep(0.1)


def test_signals_reach_the_run_and_a_killed_caller_takes_the_run_with_it(warm: tuple[Path, Path]) -> None:
    sock, log = warm
    with socket.socket() as blackhole:  # an API that takes the connection and never answers: the run waits
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(8)
        api = f"http://127.0.0.1:{blackhole.getsockname()[1]}/api"
        for sig in (signal.SIGTERM, signal.SIGKILL):
            run_id = str(uuid.uuid4())
            env = _env(**{SOCKET_ENV: str(sock), "PREFECT__FLOW_RUN_ID": run_id, "PREFECT_API_URL": api})
            caller = subprocess.Popen(ENGINE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            child = _forked_child(log, run_id)
            time.sleep(0.5)
            assert child.is_running() and caller.poll() is None

            caller.send_signal(sig)

            # SIGTERM is forwarded (the caller outlives it and reports the run's end); SIGKILL kills the caller.
            assert caller.wait(30) == (KILLED if sig == signal.SIGTERM else -signal.SIGKILL)
            deadline = time.monotonic() + 30
            while child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                assert time.monotonic() < deadline, f"the run outlived its caller ({sig.name})"
                time.sleep(0.1)


def test_each_deployed_flow_is_taken_from_what_the_warm_process_imported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A fork runs its flow from the warm process's imports (a module path), in the project's folder as the pull
    step would: not re-read from its file after asking the API for the deployment. Other flows are left alone."""
    import yaml
    from prefect.flows import load_flow_from_entrypoint

    from fupin.warm import PROJECT_DIR, _known_flow, preload

    entrypoints = preload()
    spec = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    assert len(entrypoints) == len(spec["deployments"])
    for name, entrypoint in entrypoints.items():
        assert ".py" not in entrypoint and load_flow_from_entrypoint(entrypoint).name == name

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT__FLOW_ENTRYPOINT", raising=False)
    monkeypatch.setenv("PREFECT__FLOW_NAME", "somebody-elses-flow")
    _known_flow(entrypoints)
    assert "PREFECT__FLOW_ENTRYPOINT" not in os.environ and Path.cwd() == tmp_path

    monkeypatch.setenv("PREFECT__FLOW_NAME", "monthly-close")
    _known_flow(entrypoints)
    assert os.environ["PREFECT__FLOW_ENTRYPOINT"] == "flows.monthly_close:monthly_close"
    assert Path.cwd() == PROJECT_DIR
