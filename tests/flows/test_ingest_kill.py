"""A load killed with SIGKILL in the middle leaves the warehouse as it was; running it again gives the result once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from config import Config
from fupin.demo.reports import write_filled_report
from tasks.intake.archive import sha256_of
from tasks.report.load import Receipt, load_report
from tasks.report.parse import parse_report
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import fct_indicator_value, fct_submission

# The child loads the file but dies (SIGKILL, no cleanup) the moment it starts writing the figures,
# after it has inserted the submission and demoted the previous version inside the open transaction.
CHILD = textwrap.dedent("""
    import datetime as dt, os, signal, sys
    from pathlib import Path
    from sqlalchemy import event
    from config import load_config
    from tasks.intake.archive import sha256_of
    from tasks.report.load import Receipt, load_report
    from tasks.report.parse import parse_report
    from warehouse.engine import make_engine

    url, path = sys.argv[1], Path(sys.argv[2])
    cfg, engine = load_config(), make_engine(url)

    @event.listens_for(engine, "before_cursor_execute")
    def die(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO FCT_INDICATOR_VALUE"):
            os.kill(os.getpid(), signal.SIGKILL)

    data = path.read_bytes()
    receipt = Receipt(sha256_of(data), path.name, "archive/x", dt.datetime.now(dt.timezone.utc))
    load_report(engine, parse_report(data, path.name, cfg), cfg, receipt, [], [])
""")


def _load(url: str, cfg: Config, path: Path):
    engine = make_engine(url)
    data = path.read_bytes()
    receipt = Receipt(sha256_of(data), path.name, "archive/x", dt.datetime.now(dt.UTC))
    try:
        return load_report(engine, parse_report(data, path.name, cfg), cfg, receipt, [], [])
    finally:
        engine.dispose()


def _state(url: str) -> tuple[list, dict]:
    engine = make_engine(url)
    with engine.connect() as conn:
        subs = conn.execute(
            select(fct_submission.c.submission_id, fct_submission.c.version, fct_submission.c.is_current).order_by(
                fct_submission.c.submission_id
            )
        ).all()
        facts = dict(
            conn.execute(
                select(fct_indicator_value.c.submission_id, func.count()).group_by(fct_indicator_value.c.submission_id)
            ).all()
        )
    engine.dispose()
    return [tuple(s) for s in subs], facts


def test_sigkill_mid_load_leaves_nothing_and_rerun_loads_once(warehouse_url: str, cfg: Config, tmp_path: Path) -> None:
    init_warehouse(make_engine(warehouse_url), cfg, months=["2020-12"])
    unit = cfg.unit("chaoyang")
    v1 = write_filled_report(cfg, unit, "2020-09", tmp_path / "v1.xlsx")
    v2 = write_filled_report(cfg, unit, "2020-09", tmp_path / "v2.xlsx", seed=1)
    n = len(cfg.form(unit.form_code).rows) * len(cfg.columns(unit.form_code))
    first = _load(warehouse_url, cfg, v1)
    before = _state(warehouse_url)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, warehouse_url, str(v2)], capture_output=True, timeout=120, check=False
    )
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert _state(warehouse_url) == before == ([(first.submission_id, 1, True)], {first.submission_id: n})
    second = _load(warehouse_url, cfg, v2)
    again = _load(warehouse_url, cfg, v2)
    assert (second.status, second.version, again.status) == ("accepted", 2, "duplicate")
    assert _state(warehouse_url) == (
        [(first.submission_id, 1, False), (second.submission_id, 2, True)],
        {first.submission_id: n, second.submission_id: n},
    )
