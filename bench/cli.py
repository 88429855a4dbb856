"""Benchmark: how fast the command line answers, on the embedded defaults, in both of its modes.

Times `fupin --help` and `fupin ingest one.xlsx` as whole fresh processes, in turn (help, ingest, help, ingest, …) so
a drift in the machine's speed touches both alike, after one warm-up of each. Each ingest gets a new workbook (same
unit, another seed), so every run does the real work of a new version, not the duplicate short cut. Two modes:
- served: `fupin serve` runs (started here, on free ports), so the command hands its file to the platform's warm
  process, which ingests it and records its ingest-file run;
- in-process: no Prefect server at all; the command imports the data stack and ingests the file itself.
Issue 14's targets: `--help` under 1 s, and ingest of one file within 2x `--help` (the ratio is taken pair by pair).

On a busy machine quote the CPU figures: wall time then mostly measures waiting for a core.

Usage: .venv/bin/python bench/cli.py [--runs 7]
Results: bench/out/cli.json and a table on stdout; exit 1 if a run failed (its exit code is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
HELP_TARGET_S, RATIO_TARGET = 1.0, 2.0


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one fresh `fupin ARGS` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "fupin.cli", *args], env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        sys.stderr.write(f"fupin {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-600:]}\n")
    return wall, cpu, done.returncode


def _env(home: Path) -> dict[str, str]:
    """The embedded defaults: a SQLite warehouse in FUPIN_HOME and no Prefect API (nor a served one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FUPIN_"))}
    return env | {"FUPIN_HOME": str(home), "COLUMNS": "200"}


def _row(name: str, values: list[float]) -> str:
    return f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | {max(values):.3f} |"


def _pairs(env: dict[str, str], books: list[Path]) -> list[tuple[tuple[float, float, int], tuple[float, float, int]]]:
    """(help, ingest) timings pair by pair, the first pair (disk cache, bytecode, a warm platform) left out."""
    pairs = []
    for i, book in enumerate(books):
        pair = (_timed(["--help"], env), _timed(["ingest", str(book)], env))
        if i:
            pairs.append(pair)
    return pairs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict[str, str], home: Path) -> subprocess.Popen:
    """`fupin serve` on free ports, returned once its UI and platform answer."""
    env.update({"FUPIN_SERVE_PORT": str(_free_port()), "FUPIN_WEB_PORT": str(_free_port())})
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "serve.log", "ab")  # noqa: SIM115 - the child's
    args = [sys.executable, "-m", "fupin.cli", "serve"]
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while "Prefect UI:" not in (home / "serve.log").read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"fupin serve did not start: {(home / 'serve.log').read_text()[-2000:]}")
        time.sleep(0.5)
    return proc


def _figures(pairs: list) -> dict:
    helps, ingests = [p[0] for p in pairs], [p[1] for p in pairs]
    return {
        "help_wall_s": [h[0] for h in helps],
        "help_cpu_s": [h[1] for h in helps],
        "ingest_wall_s": [i[0] for i in ingests],
        "ingest_cpu_s": [i[1] for i in ingests],
        "ingest_over_help": [i[0] / h[0] for h, i in pairs],
        "ingest_over_help_cpu": [i[1] / h[1] for h, i in pairs],
        "failed_runs": sum(1 for h, i in pairs if h[2] or i[2]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="counted pairs per mode, after one warm-up pair")
    args = parser.parse_args()

    from config import load_config
    from fupin.demo.reports import write_filled_report

    cfg = load_config()
    unit = cfg.unit("chaoyang")
    result: dict = {"runs": args.runs, "targets": {"help_wall_s": HELP_TARGET_S, "ingest_over_help": RATIO_TARGET}}
    with tempfile.TemporaryDirectory(prefix="fupin-bench-cli-") as tmp:
        for mode in ("served", "in-process"):
            home = Path(tmp) / mode
            env = _env(home)
            if _timed(["init"], env)[2]:
                sys.exit(1)
            books = [
                write_filled_report(cfg, unit, "2020-09", Path(tmp) / f"{mode}_{i}.xlsx", seed=i)
                for i in range(args.runs + 1)
            ]
            proc = _serve(env, home) if mode == "served" else None
            try:
                result[mode] = _figures(_pairs(env, books))
            finally:
                if proc is not None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(120)
            shutil.rmtree(home, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cli.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"{args.runs} pairs per mode after one warm-up, fresh processes, embedded defaults\n")
    print("| mode | figure | median | min | max |\n|---|---|---|---|---|")
    for mode in ("served", "in-process"):
        r = result[mode]
        print(_row(f"{mode} | `fupin --help` wall s", r["help_wall_s"]))
        print(_row(f"{mode} | `fupin --help` CPU s", r["help_cpu_s"]))
        print(_row(f"{mode} | `fupin ingest one.xlsx` wall s", r["ingest_wall_s"]))
        print(_row(f"{mode} | `fupin ingest one.xlsx` CPU s", r["ingest_cpu_s"]))
        print(_row(f"{mode} | ingest / --help, wall (pair by pair)", r["ingest_over_help"]))
    for mode in ("served", "in-process"):
        r = result[mode]
        print(
            f"{mode}: --help median {statistics.median(r['help_wall_s']):.2f} s (target < {HELP_TARGET_S:.0f} s); "
            f"ingest / --help median {statistics.median(r['ingest_over_help']):.2f}x (target <= {RATIO_TARGET:.0f}x)"
        )
    failed = sum(result[m]["failed_runs"] for m in ("served", "in-process"))
    if failed:
        print(f"{failed} pair(s) had a failed run: their figures do not measure the work")
        sys.exit(1)


if __name__ == "__main__":
    main()
