"""Benchmark: how fast the command line answers, on the embedded defaults with no Prefect server running.

Times `fupin --help` and `fupin ingest one.xlsx` as whole fresh processes, in turn (help, ingest, help, ingest, …) so
a drift in the machine's speed touches both alike, after one warm-up of each. Each ingest gets a new workbook (same
unit, another seed), so every run does the real work of a new version, not the duplicate short cut.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="counted pairs, after one warm-up pair")
    args = parser.parse_args()

    from config import load_config
    from fupin.demo.reports import write_filled_report

    cfg = load_config()
    unit = cfg.unit("chaoyang")
    with tempfile.TemporaryDirectory(prefix="fupin-bench-cli-") as tmp:
        home = Path(tmp) / "home"
        env = _env(home)
        if _timed(["init"], env)[2]:
            sys.exit(1)
        books = [
            write_filled_report(cfg, unit, "2020-09", Path(tmp) / f"one_{i}.xlsx", seed=i) for i in range(args.runs + 1)
        ]
        pairs: list[tuple[tuple[float, float, int], tuple[float, float, int]]] = []
        for i in range(args.runs + 1):
            pair = (_timed(["--help"], env), _timed(["ingest", str(books[i])], env))
            if i:  # the first pair warms the disk cache and the bytecode
                pairs.append(pair)
    helps, ingests = [p[0] for p in pairs], [p[1] for p in pairs]
    ratios = [i[0] / h[0] for h, i in pairs]
    cpu_ratios = [i[1] / h[1] for h, i in pairs]
    failed = sum(1 for h, i in pairs if h[2] or i[2])
    result = {
        "runs": args.runs,
        "help_wall_s": [h[0] for h in helps],
        "help_cpu_s": [h[1] for h in helps],
        "ingest_wall_s": [i[0] for i in ingests],
        "ingest_cpu_s": [i[1] for i in ingests],
        "ingest_over_help": ratios,
        "ingest_over_help_cpu": cpu_ratios,
        "failed_runs": failed,
        "targets": {"help_wall_s": HELP_TARGET_S, "ingest_over_help": RATIO_TARGET},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cli.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"{args.runs} pairs after one warm-up, fresh processes, embedded defaults, no Prefect server\n")
    print("| figure | median | min | max |\n|---|---|---|---|")
    print(_row("`fupin --help` wall s", result["help_wall_s"]))
    print(_row("`fupin --help` CPU s", result["help_cpu_s"]))
    print(_row("`fupin ingest one.xlsx` wall s", result["ingest_wall_s"]))
    print(_row("`fupin ingest one.xlsx` CPU s", result["ingest_cpu_s"]))
    print(_row("ingest / --help, wall (pair by pair)", ratios))
    print(_row("ingest / --help, CPU (pair by pair)", cpu_ratios))
    print(
        f"\ntargets: --help < {HELP_TARGET_S:.0f} s (median {statistics.median(result['help_wall_s']):.2f} s); "
        f"ingest <= {RATIO_TARGET:.0f}x --help (median {statistics.median(ratios):.2f}x)"
    )
    if failed:
        print(f"{failed} pair(s) had a failed run: their figures do not measure the work")
        sys.exit(1)


if __name__ == "__main__":
    main()
