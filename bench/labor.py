"""Benchmark: ingest Attachment 1 (326,731 + 17,634 people, plus noise): the whole `fupin labor` command beside a
bare floor script (bench/labor_floor.py) and a naive baseline, in the same run.

Usage: .venv/bin/python bench/labor.py [--scale 1.0] [--repeat 3] [--skip-baseline] [--big 10] [--pg-admin-url URL]
Every case is a fresh process, timed from start to exit as a user waits for it (peak RSS: the largest process's, and
the sum over the command and the child that reads ahead for it, sampled): the command `fupin labor FILE --month M`
(no Prefect server, into a warehouse made by `fupin init` beforehand), and the floor (read -> vectorised checks ->
HMAC keys -> bulk load, no framework). Both run --repeat times per case (median and range), alternating; the
baseline (openpyxl normal mode, a Python row loop, executemany) runs once. Then one district's list written on
demand, parallel COPY by district over 2 connections, and a CSV of --big times the rows (generated once and kept in
bench/out) through the command on both databases, for memory and linearity.
Results: bench/out/labor.json and markdown on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import hmac
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
KEY = b"bench-only-key-bench-only-key-32b"
FUPIN = str(Path(sys.executable).with_name("fupin"))
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
                    "month_key": 202007,
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
    """The naive baseline in this process; returns seconds, Attachment 1 and this process's peak RSS."""
    url, drop = _database(db, admin_url, OUT)
    try:
        result = baseline(Path(path), url)
    finally:
        drop()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


class _Home:
    """A FUPIN_HOME with an initialised warehouse (SQLite in it, or a fresh PostgreSQL database)."""

    def __init__(self, db: str, admin_url: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="labor-bench-", dir=OUT))
        self.url, self._drop = _database(db, admin_url, self.dir)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "FUPIN_"))} | {
            "FUPIN_HOME": str(self.dir),
            "FUPIN_WAREHOUSE_URL": self.url,
            "FUPIN_PII_KEY": KEY.decode(),
            "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
        }
        _run_quiet([FUPIN, "init"], self.env)

    def close(self) -> None:
        self._drop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _run_quiet(argv: list[str], env: dict) -> None:
    done = subprocess.run(argv, capture_output=True, env=env, cwd=ROOT, check=False)
    if done.returncode:
        raise RuntimeError(f"{argv[1:3]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-800:]}")


def _tree_peak(pid: int, done: threading.Event, peak: list[int]) -> None:
    """The largest sum of resident memory over a process and its descendants, sampled every 50 ms: `fupin labor`
    reads, checks and keys in a child process while it loads, so the machine holds both at once."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not done.wait(0.05):
        total = 0
        with contextlib.suppress(psutil.Error):  # a process may end between the listing and the reading
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
        peak[0] = max(peak[0], total)


def _measured(argv: list[str], env: dict | None) -> dict:
    """A fresh process timed start to exit, with its peak RSS: the largest of the process's own and its children's
    (/usr/bin/time, exact: a child forked from this large bench process would count the parent's pages in its
    ru_maxrss until it execs), and the largest sum over the process tree (sampled)."""
    with tempfile.NamedTemporaryFile("r", dir=OUT, suffix=".rss") as rss:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        sampled, peak = threading.Event(), [0]
        sampler = threading.Thread(target=_tree_peak, args=(proc.pid, sampled, peak))
        sampler.start()
        out, err = proc.communicate()
        seconds = time.perf_counter() - t0
        sampled.set()
        sampler.join()
        peak_kb = int(rss.read().split()[-1])
    if proc.returncode:
        raise RuntimeError(f"{argv[1:3]} exited {proc.returncode}: {err.decode(errors='replace')[-800:]}")
    return {
        "seconds": seconds,
        "peak_rss_mb": peak_kb / 1024,
        "tree_rss_mb": peak[0] / 2**20,
        "stdout": out.decode(errors="replace"),
    }


def command(path: Path, db: str, admin_url: str, expected: dict | None) -> dict:
    """`fupin labor FILE --month M` in a fresh process on a fresh warehouse; Attachment 1 checked afterwards."""
    home = _Home(db, admin_url)
    try:
        r = _measured([FUPIN, "labor", str(path), "--month", MONTH], home.env)
        r["exact"] = expected is None or _attachment1(home.url) == expected
        r["disk_mb"] = _disk_mb(home.url)
        r["list_s"] = _one_list(home) if expected is not None else None
    finally:
        home.close()
    r.pop("stdout")
    return r


def floor(path: Path, db: str, admin_url: str, workers: int = 1) -> dict:
    url, drop = _database(db, admin_url, OUT)
    try:
        r = _measured(
            [sys.executable, str(ROOT / "bench" / "labor_floor.py"), str(path), _plain(url), str(workers)], None
        )
    finally:
        drop()
    r.update(json.loads(r.pop("stdout").strip().splitlines()[-1]))
    return r


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _attachment1(url: str) -> dict:
    from sqlalchemy import text

    from warehouse.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT district, persons FROM v_labor_by_district")).all())
    engine.dispose()
    return {k: int(v) for k, v in got.items()}


def _disk_mb(url: str) -> float:
    """The warehouse's size on disk after the load: the SQLite file (and its WAL), or the PostgreSQL database."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    from sqlalchemy import text

    from warehouse.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return size / 2**20


ONE_LIST = (
    "import sys, time, json; from pathlib import Path; from config import load_config;"
    " from warehouse.engine import make_engine; from tasks.labor.lists import write_district_lists;"
    " e, c = make_engine(sys.argv[1]), load_config(); t = time.perf_counter();"
    " w = write_district_lists(e, c, sys.argv[2], Path(sys.argv[3]), district=sys.argv[4]);"
    " a = time.perf_counter() - t; t = time.perf_counter();"
    " v = write_district_lists(e, c, sys.argv[2], Path(sys.argv[3]), district=sys.argv[4]);"
    " print(json.dumps([a, time.perf_counter() - t, w.written, v.written]))"
)


def _one_list(home: _Home) -> dict:
    """One district's list written on demand, then asked for again unchanged (in-process time): 西城区 (25,230
    people, the size of an average district's 22k) and 朝阳区 (81,379, the largest)."""
    got = {}
    for district in ("西城区", "朝阳区"):
        out = subprocess.run(
            [sys.executable, "-c", ONE_LIST, home.url, MONTH, str(home.dir / "lists"), district],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        first, again, wrote, rewrote = json.loads(out.stdout.strip().splitlines()[-1])
        assert wrote and not rewrote
        got[district] = {"first_s": first, "unchanged_s": again}
    return got


def _baseline(path: Path, db: str, admin_url: str, expected: dict) -> dict:
    """The naive baseline in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--pg-admin-url", admin_url, "--case", str(path), db, "baseline"],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["exact"] = r.pop("attachment1") == expected
    return r


def _files(cfg, scale: float, tag: str, formats: tuple[str, ...]) -> tuple[dict[str, Path], dict, int]:
    """The bench files at `scale` × Attachment 1, generated once and kept (bench/out is not committed)."""
    from fupin.demo.labor import Noise, attachment1_counts, generate_labor, write_csv, write_xlsx

    by_district, by_county = attachment1_counts(cfg)
    if scale != 1.0:
        by_district = {k: max(1, round(v * scale)) for k, v in by_district.items()}
        by_county = {k: max(1, round(v * scale)) for k, v in by_county.items()}
    files = {fmt: OUT / f"labor{tag}.{fmt}" for fmt in formats}
    meta = OUT / f"labor{tag}.json"
    if meta.is_file() and all(p.is_file() for p in files.values()):
        return files, by_district, json.loads(meta.read_text())["rows"]
    n = sum(by_district.values())
    t = time.perf_counter()
    people = generate_labor(cfg, by_district, by_county, Noise(lapsed=max(1, n // 100), duplicates=max(1, n // 300)))
    title = "建档立卡贫困劳动力在京就业名单"
    for fmt, path in files.items():
        (write_csv if fmt == "csv" else write_xlsx)(people, path, title=title)
    meta.write_text(json.dumps({"rows": len(people)}))
    print(f"generated {len(people)} rows ({formats}) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return files, by_district, len(people)


def _median(runs: list[dict]) -> dict:
    r = dict(sorted(runs, key=lambda x: x["seconds"])[len(runs) // 2])
    r["range"] = (min(x["seconds"] for x in runs), max(x["seconds"] for x in runs))
    r["exact"] = all(x.get("exact", True) for x in runs)
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of Attachment 1 to generate (1.0 = full)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the command and the floor per case")
    parser.add_argument("--skip-baseline", action="store_true", help="no naive baseline")
    parser.add_argument("--big", type=float, default=10.0, help="the large CSV's rows, × the --scale file (0: none)")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--case", nargs=3, metavar=("FILE", "DB", "IMPL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, args.pg_admin_url), ensure_ascii=False))
        return

    from config import load_config

    cfg = load_config()
    OUT.mkdir(parents=True, exist_ok=True)
    files, expected, rows = _files(cfg, args.scale, f"-{args.scale:g}", ("csv", "xlsx"))
    results = []
    for fmt, path in files.items():
        for db in ("sqlite", "postgres"):
            cmd, flo = [], []
            for _ in range(args.repeat):  # alternating, so a busy moment on the shared machine hits both
                cmd.append(command(path, db, args.pg_admin_url, expected))
                flo.append(floor(path, db, args.pg_admin_url))
            r = {"format": fmt, "db": db, "rows": rows, "command": _median(cmd), "floor": _median(flo)}
            if not args.skip_baseline:
                r["baseline"] = _baseline(path, db, args.pg_admin_url, expected)
            results.append(r)
            c, f = r["command"], r["floor"]
            print(
                f"{fmt} {db}: command {c['seconds']:.2f} s ({c['peak_rss_mb']:.0f} / {c['tree_rss_mb']:.0f} MB), "
                f"floor {f['seconds']:.2f} s "
                f"({f['peak_rss_mb']:.0f} MB), {c['seconds'] / f['seconds']:.2f}×, exact={c['exact']}",
                file=sys.stderr,
            )
    parallel = {w: floor(files["csv"], "postgres", args.pg_admin_url, w) for w in (1, 2)}
    big = None
    if args.big:
        big_files, _, big_rows = _files(cfg, args.scale * args.big, f"-{args.scale * args.big:g}", ("csv",))
        big = {"rows": big_rows}
        for db in ("sqlite", "postgres"):
            big[db] = {"command": command(big_files["csv"], db, args.pg_admin_url, None)}
            big[db]["floor"] = floor(big_files["csv"], db, args.pg_admin_url)
            print(f"{big_rows} rows CSV {db}: {big[db]}", file=sys.stderr)
    report = {"rows": rows, "results": results, "parallel_copy": parallel, "big": big}
    (OUT / "labor.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(markdown(report))


def markdown(report: dict) -> str:
    rows = report["rows"]
    lines = [
        f"Whole `fupin labor` command vs the floor, {rows} rows (fresh processes, start to exit; median of the runs)",
        "",
        "| file | warehouse | command s (range) | command RSS MB: largest process / all | floor s (range) "
        "| floor RSS MB | command/floor "
        "| baseline s | baseline/command | one list s: 西城区 25k, 朝阳区 81k (unchanged) | exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        c, f, b = r["command"], r["floor"], r.get("baseline")
        lst = c.get("list_s") or {}
        lists = ", ".join(f"{v['first_s']:.2f} ({v['unchanged_s']:.3f})" for v in lst.values())
        base = f"{b['seconds']:.1f} | {b['seconds'] / c['seconds']:.1f}×" if b else "– | –"
        lines.append(
            f"| {r['format']} | {r['db']} | {c['seconds']:.2f} ({c['range'][0]:.2f}–{c['range'][1]:.2f}) | "
            f"{c['peak_rss_mb']:.0f} / {c['tree_rss_mb']:.0f} | "
            f"{f['seconds']:.2f} ({f['range'][0]:.2f}–{f['range'][1]:.2f}) | "
            f"{f['peak_rss_mb']:.0f} | {c['seconds'] / f['seconds']:.2f}× | {base} | "
            f"{lists} | {c['exact'] and (not b or b['exact'])} |"
        )
    p = report["parallel_copy"]
    lines += [
        "",
        f"Parallel COPY by district (floor, CSV → PostgreSQL): load step 1 connection {p[1]['steps']['load']:.2f} s, "
        f"2 connections {p[2]['steps']['load']:.2f} s ({p[1]['steps']['load'] / p[2]['steps']['load']:.2f}×)",
    ]
    if big := report["big"]:
        lines += ["", f"CSV of {big['rows']} rows ({big['rows'] / rows:.1f}× the rows):", ""]
        lines += [
            "| warehouse | command s | command RSS MB: largest process / all | time × the small file "
            "| disk MB (small file) | floor s "
            "| command/floor |"
        ]
        lines += ["|---|---|---|---|---|---|---|"]
        for db in ("sqlite", "postgres"):
            small = next(r for r in report["results"] if (r["format"], r["db"]) == ("csv", db))["command"]
            c, f = big[db]["command"], big[db]["floor"]
            lines.append(
                f"| {db} | {c['seconds']:.1f} | {c['peak_rss_mb']:.0f} / {c['tree_rss_mb']:.0f} | "
                f"{c['seconds'] / small['seconds']:.1f}× | "
                f"{c['disk_mb']:.0f} ({small['disk_mb']:.0f}) | {f['seconds']:.1f} | "
                f"{c['seconds'] / f['seconds']:.2f}× |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
