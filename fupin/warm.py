"""`python -m fupin.warm SOCKET`: the warm process `fupin serve` keeps, from which flow runs are forked.

A flow run started cold spends about three seconds importing Prefect, pandas, pandera, openpyxl and the flows before
its first step, on a 2-core machine where the monthly close is measured in seconds. This process imports them once
and then only waits: each `python -m fupin.engine` the worker starts (fupin/engine.py) connects, and gets a fork
that takes that command's environment, folder and standard streams and runs Prefect's engine, exactly as the cold
command would. Every run is still its own process, started, watched, cancelled and retried by Prefect's worker.

The process stays single-threaded and never talks to the API, so a fork inherits no thread, lock or connection. Only
its own user may connect: the socket lives in FUPIN_HOME's owner-only folder and every peer's uid is checked.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import runpy
import signal
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import yaml

from fupin.engine import socket_folder

PROJECT_DIR = Path(__file__).resolve().parents[1]
# Imported lazily by the steps (so that commands start fast), hence named here: what a warm run should not wait for.
LAZY_MODULES = (
    "prefect.engine",
    "prefect.flow_engine",
    "prefect.deployments.steps.pull",
    "pandera.pandas",
    "openpyxl",
    "python_calamine",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_pdf",
    "msoffcrypto",
    "tasks.publish.brief",
)


def preload(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Import every deployment's flow module (prefect.yaml's entrypoints) and the libraries steps load lazily; return
    each flow's entrypoint by flow name, as a module path (`flows.monthly_close:monthly_close`)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    spec = yaml.safe_load((project_dir / "prefect.yaml").read_text(encoding="utf-8"))
    entrypoints = {}
    for deployment in spec["deployments"]:
        path, func = deployment["entrypoint"].split(":")
        module = path.removesuffix(".py").replace("/", ".")
        entrypoints[getattr(importlib.import_module(module), func).name] = f"{module}:{func}"
    for name in LAZY_MODULES:
        importlib.import_module(name)
    rehearse()
    return entrypoints


def rehearse() -> None:
    """Do once here what each run would otherwise do first, and pay for: pandera registers its backends (and imports
    more) at its first validation, matplotlib finds and opens the brief's CJK font at its first drawing."""
    import io

    import matplotlib.pyplot as plt
    import pandas as pd
    import pandera.pandas as pa

    from tasks.publish.brief import MissingFont, cjk_family

    pa.DataFrameSchema({"n": pa.Column(int)}).validate(pd.DataFrame({"n": [1]}))
    try:
        family = cjk_family()
    except MissingFont:
        return
    with plt.rc_context({"font.family": [family], "pdf.fonttype": 3}):
        fig = plt.figure(figsize=(1, 1))
        fig.text(0.1, 0.5, "北京 2020")
        for kind in ("pdf", "png"):
            fig.savefig(io.BytesIO(), format=kind)
        plt.close(fig)


def listen(path: Path) -> socket.socket:
    """A Unix socket at `path`, owner-only, replacing a stale one."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with socket_folder(str(path)) as name, _umask(0o177):
        sock.bind(name)
    sock.listen(16)
    return sock


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _receive(conn: socket.socket) -> tuple[dict | None, list[int]]:
    """The request (environment and folder) and the three standard streams passed with it; None for a connection
    that only looked whether this process listens."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    if not data:
        return None, fds
    size = int.from_bytes(data[:8], "big")
    while len(data) < 8 + size:
        more = conn.recv(1 << 20)
        if not more:
            raise ConnectionError("request cut short")
        data += more
    return json.loads(data[8 : 8 + size]), fds


def serve(path: Path, entrypoints: dict[str, str]) -> None:
    """Accept runs until stopped; each one forks."""
    listener = listen(path)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished runs: nobody here waits for them
    print(f"warm: {len(sys.modules)} modules loaded, listening", flush=True)
    while True:
        conn, _ = listener.accept()
        fds: list[int] = []
        try:
            if _peer_uid(conn) != os.getuid():
                continue
            job, fds = _receive(conn)
            if job is None or len(fds) != 3:
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                _run(conn, job, fds, entrypoints)  # never returns
            print(f"warm: run {job['env'].get('PREFECT__FLOW_RUN_ID', '?')} forked as {pid}", flush=True)
        except (OSError, ValueError, ConnectionError) as exc:
            print(f"warm: a request failed: {type(exc).__name__}", flush=True)
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()


def _run(conn: socket.socket, job: dict, fds: list[int], entrypoints: dict[str, str]) -> None:
    """In the fork: become the command that asked (streams, environment, folder), run Prefect's engine, report."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        conn.sendall(f"{os.getpid()}\n".encode())
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        _known_flow(entrypoints)
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()  # Prefect read its settings at import, from this process's environment
        threading.Thread(target=_die_with_caller, args=(conn,), daemon=True).start()
        sys.argv = ["prefect.engine"]
        try:
            runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the fork must report and exit, never return into the accept loop
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(f"{code}\n".encode())
        os._exit(code)


def _known_flow(entrypoints: dict[str, str]) -> None:
    """A flow of this project is taken from what is imported here, in this project's folder, as the deployment's
    pull step would have put it: not re-read from its file after asking the API for the deployment (a quarter of a
    second before every run). Another flow is left to Prefect's engine to load."""
    entrypoint = entrypoints.get(os.environ.get("PREFECT__FLOW_NAME", ""))
    if entrypoint and "PREFECT__FLOW_ENTRYPOINT" not in os.environ:
        os.environ["PREFECT__FLOW_ENTRYPOINT"] = entrypoint
        os.chdir(PROJECT_DIR)


def _die_with_caller(conn: socket.socket) -> None:
    """Die with the command that asked for this run: the worker watches that process, so when it is killed the run
    is killed too, as a cold run would be (signals it could catch, it forwarded)."""
    with contextlib.suppress(OSError):
        while conn.recv(1):
            pass
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    # Ctrl-C (and `fupin serve`'s stop) ends this process even when it was started from a background job, which
    # inherits an ignored SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    entrypoints = preload()
    # What was imported stays: out of the collector's sight, so a fork's collections do not touch (and copy) every
    # page it shares with this process.
    gc.freeze()
    serve(Path(sys.argv[1]), entrypoints)


if __name__ == "__main__":
    main()
