"""`make demo`: run two months of the office's job on the embedded defaults, with demo data, through the real CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import bindparam, text

from config import Unit, load_config
from core.errors import EXIT_CANNOT_WORK, EXIT_REJECTED
from core.month import shift_month
from core.settings import Settings
from flows.runtime import load_runtime
from fupin.demo.labor import Noise, attachment1_counts, generate_labor, write_csv
from fupin.demo.reports import write_filled_report

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name
PREVIOUS, MONTH = "2020-08", "2020-09"
# Units whose September report is missing, so completeness and reminders have someone to name.
MISSING = ("yanqing", "grain")
EXPECTED_REJECTS = 2  # 朝阳区's draft and 市教委's v0, below


def demo_key_file(home: Path) -> Path:
    """FUPIN_HOME/secrets/pii.key: made once (64 hex characters, owner-only), then reused by every later run."""
    key_file = home / "secrets" / "pii.key"
    if not key_file.exists():
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return key_file


def _env(home: Path) -> dict[str, str]:
    """The environment every demo step runs in: FUPIN_HOME, the demo's key file, Prefect's data under FUPIN_HOME."""
    env = {k: v for k, v in os.environ.items() if k != "FUPIN_PII_KEY"}
    env.update({"FUPIN_HOME": str(home), "FUPIN_PII_KEY_FILE": str(demo_key_file(home))})
    env.setdefault("PREFECT_HOME", str(home / "prefect"))
    env.pop("FUPIN_SMTP_HOST", None)
    return env


def _step(title: str, env: dict[str, str], *args: str, allow_rejects: bool = False) -> None:
    """Run one command; stop on anything but 0, or 1 where rejections are expected (3 never: it could not work)."""
    console.rule(f"[bold]{title}")
    console.print(f"$ fupin {' '.join(args)}", style="dim")
    run = subprocess.run([sys.executable, "-m", "fupin.cli", *args], env=env, check=False)
    if run.returncode == 0 or (allow_rejects and run.returncode == EXIT_REJECTED):
        return
    why = "could not do its work; see FUPIN_HOME/logs" if run.returncode == EXIT_CANNOT_WORK else "failed"
    console.print(f"[bold red]demo stopped: `fupin {args[0]}` exited {run.returncode} ({why})")
    sys.exit(run.returncode)


def _drop(path: Path, received: dt.datetime) -> Path:
    """A file lands in the inbox at `received`. The pipeline trusts only its own record of when it first saw the
    bytes, never a file's times; the demo replays a past month, so it writes that record as the pipeline would have
    then, and on-time and late units come out as they would have."""
    from tasks.intake.archive import note_first_seen, sha256_of

    home = path.parent.parent  # FUPIN_HOME/inbox/<file> and FUPIN_HOME/incoming/<file>
    note_first_seen(home / "archive", sha256_of(path.read_bytes()), received)
    return path


def _arrival(month: str, day: int, hour: int) -> dt.datetime:
    after = shift_month(month, 1)
    return dt.datetime(after.year, after.mon, day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def write_reports(home: Path) -> list[Path]:
    """August from everyone on time; September with clerk quirks, two rejections, a correction, late and missing."""
    cfg = load_config()
    inbox = home / "inbox"

    def report(unit: Unit, month: str, name: str, arrival: dt.datetime, **how: Any) -> Path:
        return _drop(write_filled_report(cfg, unit, month, inbox / f"{month}_{name}.xlsx", **how), arrival)

    written = [report(u, PREVIOUS, u.name, _arrival(PREVIOUS, 1 + n % 9, 10)) for n, u in enumerate(cfg.units)]
    quirks = {
        "dongcheng": {"text_numbers": True},
        "xicheng": {"fullwidth": True},
        "haidian": {"retyped": True},
        "hotan": {"no_marker": True, "sent_on": "2020年10月9日"},
    }
    for n, unit in enumerate(cfg.units):
        if unit.code not in MISSING:
            day = 12 if unit.code == "fengtai" else 1 + n % 9
            written.append(report(unit, MONTH, unit.name, _arrival(MONTH, day, 9), **quirks.get(unit.code, {})))
    chaoyang, education = cfg.unit("chaoyang"), cfg.unit("education")
    written.append(report(chaoyang, MONTH, "朝阳区_初稿", _arrival(MONTH, 3, 8), cells={(1, "合计"): 1}))
    written.append(report(education, MONTH, "市教委_v0", _arrival(MONTH, 2, 8), cells={(4, "合计"): -2}))
    return written


def _use_demo_env(env: dict[str, str]) -> None:
    """This process reads the warehouse the demo's commands wrote."""
    os.environ.update({k: env[k] for k in ("FUPIN_HOME", "FUPIN_PII_KEY_FILE")})
    os.environ.pop("FUPIN_PII_KEY", None)


def check_ingested(env: dict[str, str], shas: list[str]) -> None:
    """Exit 1 must mean rejections, not lost runs: every file dropped is recorded, and only the expected rejects."""
    _use_demo_env(env)
    rt = load_runtime(Settings.from_env())
    with rt.engine.connect() as conn:
        status = dict(
            conn.execute(
                text("select sha256, status from fct_submission where sha256 in :shas").bindparams(
                    bindparam("shas", expanding=True)
                ),
                {"shas": shas},
            ).all()
        )
    rt.engine.dispose()
    lost = sum(sha not in status for sha in shas)
    rejected = sum(s == "rejected" for s in status.values())
    if lost or rejected != EXPECTED_REJECTS:
        console.print(
            f"[bold red]demo stopped: {lost} of {len(shas)} files were never recorded and {rejected} were rejected "
            f"(expected 0 and {EXPECTED_REJECTS}); see FUPIN_HOME/logs"
        )
        sys.exit(EXIT_CANNOT_WORK)


def write_labor(home: Path) -> Path:
    """The HR bureau's September export: Attachment 1's people exactly, plus lapsed, repeated and invalid rows."""
    cfg = load_config()
    frame = generate_labor(cfg, *attachment1_counts(cfg), Noise(lapsed=3000, duplicates=500, invalid_ids=0))
    (home / "incoming").mkdir(parents=True, exist_ok=True)
    path = write_csv(
        frame,
        home / "incoming" / f"人社局_建档立卡劳动力_{MONTH}.csv",
        encoding="gb18030",
        title="北京市建档立卡贫困劳动力在京就业人员名单(人社局社保信息)",
    )
    return _drop(path, _arrival(MONTH, 8, 15))


def summary(home: Path, env: dict[str, str]) -> None:
    """Attachment 1 and completeness as the warehouse now holds them, and where to look next."""
    _use_demo_env(env)
    rt = load_runtime(Settings.from_env())
    with rt.engine.connect() as conn:
        rows = conn.execute(
            text("select district, persons from v_labor_by_district where month = :m order by persons desc"),
            {"m": MONTH},
        ).all()
        rates = conn.execute(
            text(
                "select count(*), sum(case when is_current then 1 else 0 end) from fct_submission where kind = 'report'"
            )
        ).one()
    table = Table("区 district", "人数 persons", title=f"附件1 表1 — {MONTH}, from the HR records")
    for district, persons in rows:
        table.add_row(district, f"{persons:,}")
    table.add_row("[bold]合计", f"[bold]{sum(p for _, p in rows):,}")
    console.print(table)
    console.print(f"report files received: {rates[0]}, current versions in the warehouse: {rates[1]}")
    outputs = sorted((home / "outputs" / MONTH).glob("*.xlsx"))
    console.rule("[bold green]demo done")
    for label, path in (
        ("consolidated workbook", outputs[-1] if outputs else None),
        ("district labor lists", home / "outputs" / MONTH / "labor"),
        ("e-mail outbox (.eml)", home / "outbox"),
        ("quarantine (rejected files)", home / "quarantine"),
        ("warehouse", home / "warehouse.db"),
    ):
        console.print(f"{label:>28}: {path}")


def platform(home: Path, env: dict[str, str]) -> None:
    """Demo accounts on the platform (平台填报), how to sign in, and the platform itself when run by hand."""
    from fupin.web.demo import demo_accounts

    accounts, password = demo_accounts(load_runtime(Settings.from_env()).engine, home)
    url = f"http://{env.get('FUPIN_WEB_HOST', '127.0.0.1')}:{env.get('FUPIN_WEB_PORT', '8000')}"
    table = Table("用户名 user", "角色 role", "单位 unit", "密码 password", title=f"填报平台 platform: {url}")
    for name, role, unit in accounts:
        table.add_row(name, role, unit or "office", password)
    console.print(table)
    if sys.stdin.isatty() and not env.get("CI"):
        console.print(f"serving the platform at {url} (Ctrl-C stops it; `fupin web` starts it again)")
        subprocess.run([sys.executable, "-m", "fupin.cli", "web"], env=env, check=False)
    else:
        console.print(f"start it with `.venv/bin/fupin web`, then sign in at {url}")


def main() -> None:
    from core.settings import owner_only

    owner_only()  # the demo writes under FUPIN_HOME too (reports, arrival records): owner-only, as the CLI does
    home = Path(os.environ.get("FUPIN_HOME") or "var").resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = _env(home)
    started = time.monotonic()
    _step("1. create the warehouse and seed it from config/", env, "init")
    _step("2. blank templates for every unit", env, "templates", "--month", MONTH)
    console.rule("[bold]3. units drop their reports in the inbox")
    shas = [hashlib.sha256(p.read_bytes()).hexdigest() for p in write_reports(home)]
    _step(f"4. ingest {PREVIOUS} and {MONTH} (two files are meant to be rejected)", env, "ingest", allow_rejects=True)
    check_ingested(env, shas)
    path = write_labor(home)
    _step("5. the HR bureau's labor records", env, "labor", str(path), "--month", MONTH, "--max-invalid-ratio", "0.01")
    _step("5b. each district's own list, written on demand", env, "labor-lists", "--month", MONTH)
    _step(f"6. publish {PREVIOUS}", env, "publish", "--month", PREVIOUS)
    _step(f"7. remind the units still missing for {MONTH}", env, "remind", "--month", MONTH)
    _step(
        f"8. publish {MONTH} and send it (to the outbox: no SMTP host is set)",
        env,
        "publish",
        "--month",
        MONTH,
        "--send",
    )
    console.rule("[bold]9. audit: no identity number, name or secret outside its place")
    audit = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("scan_pii.py")), str(home)], env=env, check=False
    )
    if audit.returncode != 0:
        console.print("[bold red]demo stopped: personal data found outside the restricted table and district lists")
        sys.exit(audit.returncode)
    summary(home, env)
    platform(home, env)
    console.print(
        f"took {time.monotonic() - started:.0f} s. To run it as the office does: `make serve`, then open "
        "http://127.0.0.1:4200"
    )


if __name__ == "__main__":
    main()
