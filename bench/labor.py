"""Benchmark: ingest Attachment 1 (326,731 + 17,634 people, plus noise) via the project path and a naive baseline.

Usage: .venv/bin/python bench/labor.py [--scale 1.0] [--repeat 3] [--skip-baseline] [--pg-admin-url URL]
Each case runs in its own process (peak RSS is that process's); Prefect start-up is not counted (tasks run via .fn).
The project path runs --repeat times per case and reports the median (and the range); the baseline runs once.
Results: bench/out/labor.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import hmac
import json
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
KEY = b"bench-only-key"
MONTH = "2020-07"


def _database(kind: str, admin_url: str, tmp: Path) -> tuple[str, callable]:
    """A fresh empty warehouse URL and a function that drops it."""
    if kind == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: [p.unlink(missing_ok=True) for p in tmp.glob(path.name + "*")]
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"fupin_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def project(path: Path, url: str) -> dict:
    """read (fastexcel / Arrow CSV) -> pandera contract -> HMAC -> COPY / executemany -> Attachment 1 from the view."""
    from config import load_config
    from tasks.intake.archive import sha256_of
    from tasks.labor.load import FileFacts, load_labor
    from tasks.labor.read import read_labor
    from tasks.labor.totals import attachment1_by_district
    from tasks.labor.validate import validate_labor
    from warehouse.engine import make_engine
    from warehouse.init import init_warehouse

    cfg = load_config()
    engine = make_engine(url)
    init_warehouse(engine, cfg, months=[MONTH])
    steps, t0 = {}, time.perf_counter()
    frame = read_labor.fn(path, cfg)
    steps["read"] = time.perf_counter() - t0
    check = validate_labor.fn(frame, cfg)
    steps["validate"] = time.perf_counter() - t0 - sum(steps.values())
    facts = FileFacts(sha256_of(path.read_bytes()), path.name, "archive/x", dt.datetime.now(dt.UTC), MONTH)
    load_labor.fn(engine, cfg, facts, check, KEY)
    steps["key+load"] = time.perf_counter() - t0 - sum(steps.values())
    table1 = attachment1_by_district(engine, MONTH)
    steps["aggregate"] = time.perf_counter() - t0 - sum(steps.values())
    engine.dispose()
    return {
        "seconds": time.perf_counter() - t0,
        "steps": steps,
        "attachment1": dict(zip(table1["district"], map(int, table1["persons"]), strict=False)),
    }


def _valid_py(number: str) -> bool:
    from contracts.identity import check_char  # the one MOD 11-2 rule, in its scalar form

    if len(number) != 18 or not number[:17].isdigit():
        return False
    if check_char(number[:17]) != number[17].upper():
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return True


def baseline(path: Path, url: str) -> dict:
    """openpyxl normal mode (or the csv module), a Python row loop, SQLAlchemy Core executemany."""
    from openpyxl import load_workbook
    from sqlalchemy import insert, select, text

    from config import load_config
    from warehouse.engine import make_engine
    from warehouse.init import init_warehouse
    from warehouse.schema import (
        dim_district,
        dim_origin,
        fct_labor_employment,
        fct_submission,
        restricted_labor_person,
    )

    cfg = load_config()
    engine = make_engine(url)
    init_warehouse(engine, cfg, months=[MONTH])
    t0 = time.perf_counter()
    if path.suffix == ".xlsx":
        rows = [list(r) for r in load_workbook(path).worksheets[0].iter_rows(values_only=True)]
    else:
        with open(path, encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    header_at = next(i for i, r in enumerate(rows) if "公民身份号码" in r)
    header = rows[header_at]
    col = {name: header.index(aliases[0]) for name, aliases in cfg.labor.columns.items()}
    districts = (
        {u.short_name: u.name for u in cfg.districts}
        | {u.name: u.name for u in cfg.districts}
        | {f"北京市{u.name}": u.name for u in cfg.districts}
    )
    people, seen = {}, set()
    for row in rows[header_at + 1 :]:
        number = str(row[col["id_number"]]).upper()
        district = districts.get(str(row[col["work_district"]]))
        if not _valid_py(number) or district is None or number in seen:
            continue
        seen.add(number)
        people[number] = {c: str(row[i]) for c, i in col.items()} | {"work_district": district}
    with engine.begin() as conn:
        dk = dict(conn.execute(select(dim_district.c.district, dim_district.c.district_key)).all())
        ok = {
            tuple(r[1:]): r[0]
            for r in conn.execute(
                select(dim_origin.c.origin_key, dim_origin.c.province, dim_origin.c.city, dim_origin.c.county)
            )
        }
        for p in people.values():
            origin = (p["origin_province"], p["origin_city"], p["origin_county"])
            if origin not in ok:
                ok[origin] = conn.execute(
                    insert(dim_origin)
                    .values(
                        province=origin[0],
                        city=origin[1],
                        county=origin[2],
                        is_paired=False,
                        is_central_western=origin[0] in cfg.central_western_provinces,
                        report_region=cfg.province_region(origin[0]),
                    )
                    .returning(dim_origin.c.origin_key)
                ).scalar_one()
        unit = conn.execute(
            text("SELECT unit_key FROM dim_unit WHERE unit_code = :u"), {"u": cfg.labor.sender_unit}
        ).scalar_one()
        sid = conn.execute(
            insert(fct_submission)
            .values(
                kind="labor",
                sha256=uuid.uuid4().hex,
                original_name=path.name,
                archive_path="x",
                status="accepted",
                received_at=dt.datetime.now(dt.UTC),
                unit_key=unit,
                month_key=202007,
                version=1,
                is_current=True,
            )
            .returning(fct_submission.c.submission_id)
        ).scalar_one()
        rp, cells = [], {}
        for number, p in people.items():
            key = hmac.new(KEY, number.encode(), hashlib.sha256).digest()
            o, d = ok[(p["origin_province"], p["origin_city"], p["origin_county"])], dk[p["work_district"]]
            insured = p["insurance_status"] == "在保"
            rp.append(
                {
                    "submission_id": sid,
                    "person_key": key,
                    "name": p["name"],
                    "district_key": d,
                    "origin_key": o,
                    "is_insured": insured,
                    "id_masked": number[:6] + "********" + number[-4:],
                    "employer": p["employer"],
                    "insurance_status": p["insurance_status"],
                    "source_row": 0,
                }
            )
            if insured:
                cells[(o, d)] = cells.get((o, d), 0) + 1
        conn.execute(insert(restricted_labor_person), rp)
        conn.execute(
            insert(fct_labor_employment),
            [
                {"submission_id": sid, "origin_key": o, "district_key": d, "month_key": 202007, "persons": n}
                for (o, d), n in cells.items()
            ],
        )
    with engine.connect() as conn:
        table1 = dict(conn.execute(text("SELECT district, persons FROM v_labor_by_district")).all())
    engine.dispose()
    return {"seconds": time.perf_counter() - t0, "steps": {}, "attachment1": table1}


def run_case(path: str, db: str, impl: str, admin_url: str) -> dict:
    """One measurement in this process; returns seconds, steps, Attachment 1 and this process's peak RSS."""
    url, drop = _database(db, admin_url, OUT)
    try:
        result = (project if impl == "project" else baseline)(Path(path), url)
    finally:
        drop()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of Attachment 1 to generate (1.0 = full)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the project path per case (median reported)")
    parser.add_argument("--skip-baseline", action="store_true", help="time the project path only")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--case", nargs=3, metavar=("FILE", "DB", "IMPL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, args.pg_admin_url), ensure_ascii=False))
        return

    from config import load_config
    from fupin.demo.labor import Noise, attachment1_counts, generate_labor, write_csv, write_xlsx

    cfg = load_config()
    OUT.mkdir(parents=True, exist_ok=True)
    by_district, by_county = attachment1_counts(cfg)
    if args.scale != 1.0:
        by_district = {k: max(1, round(v * args.scale)) for k, v in by_district.items()}
        by_county = {k: max(1, round(v * args.scale)) for k, v in by_county.items()}
    n = sum(by_district.values())
    t = time.perf_counter()
    people = generate_labor(cfg, by_district, by_county, Noise(lapsed=max(1, n // 100), duplicates=max(1, n // 300)))
    files = {
        "csv": write_csv(people, OUT / "labor.csv", title="建档立卡贫困劳动力在京就业名单"),
        "xlsx": write_xlsx(people, OUT / "labor.xlsx", title="建档立卡贫困劳动力在京就业名单"),
    }
    print(
        f"generated {len(people)} rows ({n} central/western insured) and wrote xlsx + CSV in "
        f"{time.perf_counter() - t:.1f} s",
        file=sys.stderr,
    )
    results = []
    impls = ["project"] if args.skip_baseline else ["project", "baseline"]
    for fmt, path in files.items():
        for db in ("sqlite", "postgres"):
            for impl in impls:
                runs = [
                    _run(path, db, impl, args.pg_admin_url, by_district)
                    for _ in range(args.repeat if impl == "project" else 1)
                ]
                r = sorted(runs, key=lambda x: x["seconds"])[len(runs) // 2]
                r.update(
                    format=fmt,
                    db=db,
                    impl=impl,
                    exact=all(x["exact"] for x in runs),
                    range=(min(x["seconds"] for x in runs), max(x["seconds"] for x in runs)),
                )
                print(
                    f"{fmt} {db} {impl}: {r['seconds']:.2f} s (of {[round(x['seconds'], 2) for x in runs]}), "
                    f"{r['peak_rss_mb']:.0f} MB, exact={r['exact']}",
                    file=sys.stderr,
                )
                results.append(r)
    (OUT / "labor.json").write_text(json.dumps({"rows": len(people), "results": results}, ensure_ascii=False, indent=1))
    print(markdown(results, len(people)))


def _run(path: Path, db: str, impl: str, admin_url: str, expected: dict) -> dict:
    """One case in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--pg-admin-url", admin_url, "--case", str(path), db, impl],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["exact"] = r.pop("attachment1") == expected
    return r


def markdown(results: list[dict], rows: int) -> str:
    header = (
        "| file | database | project s (median, range) | project peak RSS MB | baseline s | baseline peak RSS MB "
        "| speed-up | Attachment 1 exact | project steps s |"
    )
    lines = [
        f"Labor ingest, {rows} rows (read → validate → key → load → aggregate; Prefect start-up excluded)",
        "",
        header,
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fmt in ("xlsx", "csv"):
        for db in ("sqlite", "postgres"):
            p = next(r for r in results if (r["format"], r["db"], r["impl"]) == (fmt, db, "project"))
            b = next((r for r in results if (r["format"], r["db"], r["impl"]) == (fmt, db, "baseline")), None)
            steps = ", ".join(f"{k} {v:.2f}" for k, v in p["steps"].items())
            base = (
                f"{b['seconds']:.2f} | {b['peak_rss_mb']:.0f} | {b['seconds'] / p['seconds']:.1f}×"
                if b
                else "– | – | –"
            )
            exact = p["exact"] and (b is None or b["exact"])
            lo, hi = p["range"]
            lines.append(
                f"| {fmt} | {db} | {p['seconds']:.2f} ({lo:.2f}–{hi:.2f}) | {p['peak_rss_mb']:.0f} | {base} | "
                f"{exact} | {steps} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
