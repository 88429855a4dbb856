"""Close benchmark: the served monthly close of N report files against `fupin ingest` of the same files in-process,
in the same run, on the embedded defaults (SQLite warehouse, `fupin serve` with its SQLite Prefect database).

What it measures, for each size (60 files = one office month: 36 units, 6 corrections, 6 bad files, 12 re-sends;
600 = ten such months):
- baseline: `fupin ingest` of the inbox in a fresh process, no Prefect server (wall time as a user waits for it);
- served: the monthly-close deployment run on `fupin serve` (worker, runs recorded, month published), from the run's
  creation to its final state, while a sampler asks the UI's own API (run list, counts, deployments, work pools,
  artifacts, logs) every 0.5 s and keeps the slowest answer;
- checks: no crashed run, every file in the warehouse exactly once (submission counts as expected).

Usage: .venv/bin/python bench/close.py [--sizes 60,600]
Results: bench/out/close.json and a table on stdout; exit 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
FUPIN = [sys.executable, "-m", "fupin.cli"]
UI_CALLS = [
    ("POST", "/flow_runs/filter", {"limit": 50, "sort": "START_TIME_DESC"}),
    ("POST", "/flow_runs/count", {}),
    ("POST", "/deployments/filter", {"limit": 50}),
    ("POST", "/work_pools/filter", {}),
    ("POST", "/artifacts/filter", {"limit": 50}),
    ("POST", "/logs/filter", {"limit": 200, "sort": "TIMESTAMP_DESC"}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_inbox(cfg, inbox: Path, months: list[str]) -> dict[str, int]:
    """The months' files (soak's 60 a month) in the inbox, oldest first; what they must add to the warehouse."""
    from soak import month_files  # bench/ is first on sys.path when this runs as a script

    expect = {"accepted": 0, "rejected": 0}
    stamp = time.time() - 86400 * 30
    for m, month in enumerate(months, start=1):
        files, add = month_files(cfg, month, inbox, m)
        for n, f in enumerate(files):
            os.utime(f, (stamp + m * 100 + n, stamp + m * 100 + n))
        expect["accepted"] += add["accepted"]
        expect["rejected"] += add["rejected"]
    return expect


def fresh_home(cfg, months: list[str]) -> tuple[Path, dict[str, str], dict[str, int]]:
    home = Path(tempfile.mkdtemp(prefix="fupin-close-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FUPIN_"))}
    env.update({"FUPIN_HOME": str(home), "FUPIN_PII_KEY": "bench-only-key-not-a-secret-0123456789"})
    subprocess.run([*FUPIN, "init"], env=env, check=True, capture_output=True)
    return home, env, write_inbox(cfg, home / "inbox", months)


def counts(home: Path) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{home / 'warehouse.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("select status, count(*) from fct_submission group by status")).all()
    engine.dispose()
    return {status: n for status, n in rows}


def baseline(cfg, months: list[str]) -> dict:
    home, env, expect = fresh_home(cfg, months)
    started = time.perf_counter()
    run = subprocess.run([*FUPIN, "ingest"], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    got = counts(home)
    shutil.rmtree(home, ignore_errors=True)
    return {"seconds": round(seconds, 1), "exit": run.returncode, "counts_ok": got == expect, "counts": got}


class Sampler(threading.Thread):
    """Asks the UI's API the questions its pages ask, every 0.5 s, and keeps each call's slowest answer."""

    def __init__(self, api: str) -> None:
        super().__init__(daemon=True)
        self.api, self.stop, self.slowest, self.failed = api, threading.Event(), {}, 0

    def run(self) -> None:
        while not self.stop.is_set():
            for method, path, body in UI_CALLS:
                request = urllib.request.Request(
                    self.api + path,
                    data=json.dumps(body).encode(),
                    method=method,
                    headers={"Content-Type": "application/json"},
                )
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        answer.read()
                except OSError:
                    self.failed += 1
                took = time.perf_counter() - started
                self.slowest[path] = max(self.slowest.get(path, 0.0), took)
            self.stop.wait(0.5)


def _phases(close, files: list) -> dict[str, float]:
    """Where the close's time went: waiting for the worker and a process, the sweep (first to last file run
    recorded), and what came after (waiting on runs, publishing and sending)."""
    created, started, ended = close.created, close.start_time, close.end_time
    recorded = sorted(r.created for r in files)
    if not (created and started and ended and recorded):
        return {}
    return {
        "created_to_end": round((ended - created).total_seconds(), 1),
        "to_start": round((started - created).total_seconds(), 1),
        "start_to_first_file": round((recorded[0] - started).total_seconds(), 1),
        "sweep": round((recorded[-1] - recorded[0]).total_seconds(), 1),
        "after_sweep": round((ended - recorded[-1]).total_seconds(), 1),
    }


def served(cfg, months: list[str]) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home, env, expect = fresh_home(cfg, [])
    port = free_port()
    env["FUPIN_SERVE_PORT"] = str(port)
    log = open(home / "serve.log", "ab")  # noqa: SIM115 - the child's
    proc = subprocess.Popen([*FUPIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 300
        while "Prefect UI:" not in (home / "serve.log").read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"fupin serve did not start: {(home / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.5)
        with temporary_settings({PREFECT_API_URL: api}):
            with get_client(sync_client=True) as client:
                for deployment in client.read_deployments():
                    for schedule in deployment.schedules:
                        client.update_deployment_schedule(deployment.id, schedule.id, active=False)
            expect = write_inbox(cfg, home / "inbox", months)
            sampler = Sampler(api)
            sampler.start()
            started = time.perf_counter()
            run = run_deployment(
                "monthly-close/monthly-close", parameters={"month": months[-1]}, timeout=3600, poll_interval=0.1
            )  # Prefect's default 5 s poll would add up to 5 s that the close did not take (0.5 s: 0.25 s on average)
            seconds = time.perf_counter() - started
            sampler.stop.set()
            sampler.join()
            with get_client(sync_client=True) as client:
                states: dict[str, int] = {}
                runs = []
                while batch := client.read_flow_runs(limit=200, offset=len(runs)):  # the API's page size
                    runs += batch
                for r in runs:
                    states[r.state.name] = states.get(r.state.name, 0) + 1
                close = client.read_flow_run(run.id)
        phases = _phases(close, [r for r in runs if r.id != run.id])
        got = counts(home)
        return {
            "seconds": round(seconds, 1),
            "close_state": run.state.name,
            "run_states": states,
            "no_crash": not any(name in ("Crashed", "Failed") for name in states) and run.state.is_completed(),
            "counts_ok": got == expect,
            "counts": got,
            "slowest_ui_call_s": round(max(sampler.slowest.values(), default=0.0), 2),
            "slowest_by_call": {k: round(v, 2) for k, v in sampler.slowest.items()},
            "ui_call_failures": sampler.failed,
            "phases_s": phases,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="60,600", help="file counts, multiples of 60 (one month = 60 files)")
    args = parser.parse_args()

    from config import load_config
    from core.month import format_month

    cfg = load_config()
    results, ok = [], True
    for size in (int(s) for s in args.sizes.split(",")):
        months = [format_month(2020, 1).shift(m) for m in range(size // 60)]
        base = baseline(cfg, months)
        close = served(cfg, months)
        row = {"files": size, "ingest": base, "close": close, "ratio": round(close["seconds"] / base["seconds"], 2)}
        results.append(row)
        ok &= base["counts_ok"] and close["counts_ok"] and close["no_crash"]
        print(json.dumps(row, ensure_ascii=False), flush=True)
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = (last["close"]["seconds"] / first["close"]["seconds"]) / (last["files"] / first["files"])
        results.append({"linear_growth": round(growth, 2)})
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "close.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print("| files | fupin ingest (in-process) | served close | ratio | slowest UI call | crashed | exact |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if "files" in r:
            print(
                f"| {r['files']} | {r['ingest']['seconds']} s | {r['close']['seconds']} s | {r['ratio']}× | "
                f"{r['close']['slowest_ui_call_s']} s | {'none' if r['close']['no_crash'] else 'YES'} | "
                f"{r['ingest']['counts_ok'] and r['close']['counts_ok']} |"
            )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
