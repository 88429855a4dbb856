"""Soak benchmark: 12 months x 60 report files (10% bad, 10% corrected re-submissions) plus a labor file a month,
through the real ingest_file / ingest_labor flows; files per minute, peak RSS, and warehouse counts checked exactly.

How 60 a month is reached with the 36 declared units: 36 first versions + 6 corrected re-submissions (new versions)
+ 6 bad files + 12 byte-identical re-sends of files already received (must stay one submission each).
The baseline is the first month's rate in the same run: the last month's rate over it shows any slow-down as the
warehouse grows.

Usage: .venv/bin/python bench/soak.py [--months 12] [--people 100] [--url WAREHOUSE_URL]
Results: bench/out/soak.json and a table on stdout; exit 1 if any count differs from the expected one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
BAD_KINDS = ("truncated", "renamed_pdf", "wrong_form", "unknown_unit", "negative", "junk_rows")


def month_files(cfg, month: str, inbox: Path, m: int) -> tuple[list[Path], dict[str, int]]:
    """The month's 60 files in received order, and what they should add: accepted, rejected, fact rows."""
    from fupin.demo import bad_files
    from fupin.demo.reports import write_filled_report

    files, expect = [], {"accepted": 0, "rejected": 0, "facts": 0}

    def cells(unit) -> int:
        form = cfg.form(unit.form_code)
        return len(form.rows) * len(cfg.columns(form))

    for unit in cfg.units:
        files.append(write_filled_report(cfg, unit, month, inbox / f"{month}_{unit.code}.xlsx"))
        expect["accepted"] += 1
        expect["facts"] += cells(unit)
    for unit in cfg.units[m % 6 :: 6][:6]:
        files.append(write_filled_report(cfg, unit, month, inbox / f"{month}_{unit.code}_更正.xlsx", seed=1))
        expect["accepted"] += 1
        expect["facts"] += cells(unit)
    district, bureau = cfg.districts[m % len(cfg.districts)], next(u for u in cfg.units if u.form_code == "表2")
    for kind in BAD_KINDS:
        path = inbox / f"{month}_bad_{kind}.xlsx"
        if kind == "truncated":
            good = write_filled_report(cfg, district, month, path).read_bytes()
            path.write_bytes(good[: len(good) // 2])
        elif kind == "renamed_pdf":
            path.write_bytes(f"%PDF-1.4\n% {month}\n%%EOF\n".encode())
        elif kind == "wrong_form":
            write_filled_report(cfg, bureau, month, path, unit_text=district.name, no_marker=True)
        elif kind == "unknown_unit":
            write_filled_report(cfg, district, month, path, unit_text=f"火星区{m}", no_marker=True)
        elif kind == "negative":
            write_filled_report(cfg, district, month, path, cells={(1, cfg.total_column): -1 - m})
        else:
            bad_files.junk_rows(cfg, path, rows=100_000 + m)
        files.append(path)
        expect["rejected"] += 1
    for n, original in enumerate(files[:12]):
        resend = inbox / f"{month}_resend_{n}.xlsx"
        resend.write_bytes(original.read_bytes())
        files.append(resend)
    return files, expect


def labor_file(cfg, month: str, incoming: Path, people: int, m: int) -> tuple[Path, int]:
    from fupin.demo.labor import generate_labor, write_csv

    frame = generate_labor(cfg, by_district={d.name: people for d in cfg.districts}, by_paired_county={}, seed=m)
    return write_csv(frame, incoming / f"labor_{month}.csv"), len(frame)


def counts(engine) -> dict[str, int]:
    from sqlalchemy import text

    queries = {
        "report_accepted": "select count(*) from fct_submission where kind = 'report' and status = 'accepted'",
        "report_rejected": "select count(*) from fct_submission where kind = 'report' and status = 'rejected'",
        "report_current": "select count(*) from fct_submission where kind = 'report' and is_current",
        "fct_indicator_value": "select count(*) from fct_indicator_value",
        "labor_accepted": "select count(*) from fct_submission where kind = 'labor' and status = 'accepted'",
        "restricted_labor_person": "select count(*) from restricted_labor_person",
    }
    with engine.connect() as conn:
        return {k: conn.execute(text(q)).scalar_one() for k, q in queries.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--people", type=int, default=100, help="laborers per district per month")
    parser.add_argument("--url", help="warehouse URL (default: a SQLite file in a temporary FUPIN_HOME)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="fupin-soak-"))
    os.environ.update({"FUPIN_HOME": str(home), "FUPIN_PII_KEY": "bench-only-key-not-a-secret-0123456789"})
    # On a busy 2-core machine the ephemeral Prefect server can take longer than its default 20 s to come up.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    if args.url:
        os.environ["FUPIN_WAREHOUSE_URL"] = args.url

    from config import load_config
    from core.month import format_month
    from flows.ingest_file import ingest_file
    from flows.ingest_labor import ingest_labor
    from flows.runtime import load_runtime
    from warehouse.init import init_warehouse

    cfg = load_config()
    rt = load_runtime()
    months = [format_month(2020, m) for m in range(1, args.months + 1)]
    init_warehouse(rt.engine, cfg, months=months)
    expect = {
        "report_accepted": 0,
        "report_rejected": 0,
        "report_current": 0,
        "fct_indicator_value": 0,
        "labor_accepted": 0,
        "restricted_labor_person": 0,
    }
    rates, n_files, ingest_seconds = [], 0, 0.0
    for m, month in enumerate(months, start=1):
        inbox = home / "inbox" / month
        inbox.mkdir(parents=True)
        files, add = month_files(cfg, month, inbox, m)
        stamp = time.time() - 86400 * (len(months) - m + 1)
        for n, f in enumerate(files):
            os.utime(f, (stamp + n, stamp + n))
        labor, people = labor_file(cfg, month, inbox, args.people, m)
        started = time.perf_counter()
        for f in files:
            ingest_file(str(f), return_state=True)
        ingest_labor(str(labor), month)
        seconds = time.perf_counter() - started
        ingest_seconds += seconds
        n_files += len(files) + 1
        rates.append((len(files) + 1) / seconds * 60)
        expect["report_accepted"] += add["accepted"]
        expect["report_rejected"] += add["rejected"]
        expect["report_current"] += len(cfg.units)
        expect["fct_indicator_value"] += add["facts"]
        expect["labor_accepted"] += 1
        expect["restricted_labor_person"] += people
        print(f"{month}: {len(files) + 1} files in {seconds:.1f} s ({rates[-1]:.0f} files/min)", flush=True)
    got = counts(rt.engine)
    result = {
        "months": len(months),
        "files": n_files,
        "files_per_minute": round(n_files / ingest_seconds * 60, 1),
        "first_month_files_per_minute": round(rates[0], 1),
        "last_month_files_per_minute": round(rates[-1], 1),
        "last_over_first": round(rates[-1] / rates[0], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "warehouse": rt.engine.dialect.name,
        "counts": got,
        "expected": expect,
        "counts_match": got == expect,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "soak.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(
        f"| files | files/min | month 1 → {len(months)} | peak RSS | counts exact |\n|---|---|---|---|---|\n"
        f"| {n_files} | {result['files_per_minute']} | {rates[0]:.0f} → {rates[-1]:.0f} "
        f"(×{result['last_over_first']}) | {result['peak_rss_mb']} MB | {result['counts_match']} |"
    )
    for k, want in expect.items():
        print(f"  {k:<26} {got[k]:>9,} expected {want:>9,} {'ok' if got[k] == want else 'MISMATCH'}")
    sys.exit(0 if result["counts_match"] else 1)


if __name__ == "__main__":
    main()
