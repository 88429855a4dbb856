"""The ingest-file flow on real workbooks, a real warehouse (SQLite and PostgreSQL) and the real Prefect API."""

from __future__ import annotations

import datetime as dt
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select, text

from config import Config
from flows.ingest_file import ingest_file
from fupin.demo.bad_files_arrival import FUTURE, dated
from fupin.demo.report_fixtures import catalogue, write_fixture
from fupin.demo.reports import report_values, write_filled_report
from tasks.intake.archive import note_first_seen, sha256_of
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import fct_indicator_value, fct_submission, fct_validation_issue

pytestmark = pytest.mark.prefect


def _env(home: Path, url: str, cfg: Config, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    engine = make_engine(url)
    init_warehouse(engine, cfg, months=["2020-12"])
    # The heartbeat thread's join costs ~1 s per in-process flow run (shared/notes/prefect-3.9.md).
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield SimpleNamespace(home=home, engine=engine, files=home / "files")
    engine.dispose()


@pytest.fixture
def env(prefect_api, fupin_home: Path, warehouse_url: str, cfg: Config, monkeypatch) -> Iterator[SimpleNamespace]:
    """FUPIN_HOME and a warehouse on SQLite and on PostgreSQL, as a flow run reads them at its start."""
    yield from _env(fupin_home, warehouse_url, cfg, monkeypatch)


@pytest.fixture
def lite(prefect_api, fupin_home: Path, sqlite_url: str, cfg: Config, monkeypatch) -> Iterator[SimpleNamespace]:
    """The same on SQLite only, for tests whose point is not the dialect."""
    yield from _env(fupin_home, sqlite_url, cfg, monkeypatch)


def view(engine: Engine, unit: str, month: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            text("select * from v_indicator_value where unit_code = :u and month = :m"),
            conn,
            params={"u": unit, "m": month},
        )


def expected_long(cfg: Config, unit_code: str, month: str, seed: int = 0) -> pd.Series:
    unit = cfg.unit(unit_code)
    wide = report_values(cfg, unit, month, seed)
    return (
        wide.melt(id_vars="row_no", value_vars=list(cfg.columns(unit.form_code)), var_name="region")
        .set_index(["row_no", "region"])["value"]
        .sort_index()
    )


def submissions(engine: Engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(fct_submission).order_by(fct_submission.c.submission_id)).all()


@pytest.mark.parametrize("unit_code", ["chaoyang", "hotan"])
def test_good_report_lands_cell_by_cell(env, cfg: Config, unit_code: str) -> None:
    path = write_filled_report(cfg, cfg.unit(unit_code), "2020-09", env.files / "r.xlsx")
    result = ingest_file(str(path))
    assert (result["status"], result["version"], result["unit"], result["month"]) == (
        "accepted",
        1,
        unit_code,
        "2020-09",
    )
    got = view(env.engine, unit_code, "2020-09").set_index(["row_no", "region"]).sort_index()
    pd.testing.assert_series_equal(
        got["value"].astype(float), expected_long(cfg, unit_code, "2020-09"), check_names=False, atol=1e-9
    )
    assert (got["submission_id"] == result["submission_id"]).all() and (got["version"] == 1).all()
    [sub] = submissions(env.engine)
    archived = env.home / sub.archive_path
    assert archived.read_bytes() == path.read_bytes() and archived.name.startswith(sha256_of(path.read_bytes()))
    assert stat.S_IMODE(archived.stat().st_mode) == 0o400
    assert (sub.status, sub.is_current, sub.sent_on, sub.n_rows) == ("accepted", True, dt.date(2020, 10, 8), len(got))
    assert sub.is_late is True  # received now, years after the 2020-10 deadline


def test_new_version_supersedes_and_same_bytes_are_one_submission(lite, cfg: Config) -> None:
    env = lite
    first = write_filled_report(cfg, cfg.unit("chaoyang"), "2020-09", env.files / "v1.xlsx")
    second = write_filled_report(cfg, cfg.unit("chaoyang"), "2020-09", env.files / "v2.xlsx", seed=1)
    r1, r2 = ingest_file(str(first)), ingest_file(str(second))
    again = env.files / "v1-copy.xlsx"
    shutil.copy(first, again)
    r3 = ingest_file(str(again))
    assert (r1["version"], r2["version"], r2["superseded"]) == (1, 2, r1["submission_id"])
    assert (r3["status"], r3["submission_id"]) == ("duplicate", r1["submission_id"])
    subs = submissions(env.engine)
    assert [(s.version, s.is_current) for s in subs] == [(1, False), (2, True)]
    got = view(env.engine, "chaoyang", "2020-09").set_index(["row_no", "region"]).sort_index()
    pd.testing.assert_series_equal(
        got["value"].astype(float), expected_long(cfg, "chaoyang", "2020-09", seed=1), check_names=False, atol=1e-9
    )
    with env.engine.connect() as conn:
        per_sub = dict(
            conn.execute(
                select(fct_indicator_value.c.submission_id, func.count()).group_by(fct_indicator_value.c.submission_id)
            ).all()
        )
    assert per_sub == {r1["submission_id"]: len(got), r2["submission_id"]: len(got)}  # version 1 stays queryable


def test_value_month_is_the_increment(env, cfg: Config) -> None:
    for month in ("2020-01", "2020-02", "2020-03"):
        ingest_file(str(write_filled_report(cfg, cfg.unit("chaoyang"), month, env.files / f"{month}.xlsx")))
    v = {
        m: view(env.engine, "chaoyang", m).set_index(["row_no", "region"]).sort_index() for m in ("2020-01", "2020-03")
    }
    feb = expected_long(cfg, "chaoyang", "2020-02")
    counts = [r.row_no for r in cfg.form("表1").rows if r.kind != "rate"]
    rates = [r.row_no for r in cfg.form("表1").rows if r.kind == "rate"]
    pd.testing.assert_series_equal(
        v["2020-01"]["value_month"].loc[counts].astype(float),
        v["2020-01"]["value"].loc[counts].astype(float),
        check_names=False,
    )
    march = v["2020-03"]["value"].loc[counts].astype(float) - feb.loc[counts]
    pd.testing.assert_series_equal(
        v["2020-03"]["value_month"].loc[counts].astype(float), march, check_names=False, atol=1e-9
    )
    assert v["2020-03"]["value_month"].loc[rates].isna().all()


def test_rejected_file_fails_the_run_and_is_quarantined_with_its_report(lite, cfg: Config) -> None:
    fx = next(f for f in catalogue(cfg) if f.name == "total_not_sum")
    path = write_fixture(cfg, fx, lite.files)
    state = ingest_file(str(path), return_state=True)
    assert state.is_failed() and "rejected with 1 problem" in state.message
    [sub] = submissions(lite.engine)
    assert (sub.status, sub.is_current, sub.version, sub.n_errors) == ("rejected", False, None, 1)
    with lite.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fct_indicator_value)).scalar() == 0
        [issue] = conn.execute(select(fct_validation_issue)).all()
    [(rule, cell)] = fx.errors
    assert (issue.rule, issue.cell, issue.severity) == (rule, cell, "error")
    folder = lite.home / "quarantine" / sub.sha256[:16]
    stem = path.stem
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [path.name, "report.json", "report.txt", f"{stem}_标注.xlsx"]
    )
    assert (folder / path.name).read_bytes() == path.read_bytes()
    assert issue.message_zh in (folder / "report.txt").read_text() and cell in (folder / "report.txt").read_text()
    marked = load_workbook(folder / f"{stem}_标注.xlsx")
    assert issue.message_en in marked["表1"][cell].comment.text and marked["表1"][cell].fill.fgColor.rgb.endswith(
        "FFC7CE"
    )
    _assert_artifact(sub.sha256, cell)


def _assert_artifact(sha: str, cell: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"rejection-{sha[:16]}"]))
        )
    assert artifact.type == "markdown" and f"| {cell} |" in artifact.data


def test_on_time_file_is_not_late(lite, cfg: Config) -> None:
    path = write_filled_report(cfg, cfg.unit("hotan"), "2020-09", lite.files / "r.xlsx")
    on_time = dt.datetime(2020, 10, 10, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    note_first_seen(lite.home / "archive", sha256_of(path.read_bytes()), on_time)  # the sweep saw it then
    ingest_file(str(path))
    [sub] = submissions(lite.engine)
    assert sub.is_late is False


def test_missing_alias_fixed_in_config_then_the_same_file_is_accepted(lite, cfg: Config, tmp_path, monkeypatch) -> None:
    conf = tmp_path / "config"
    shutil.copytree(cfg.directory, conf, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("FUPIN_CONFIG_DIR", str(conf))
    path = write_filled_report(
        cfg,
        cfg.unit("education"),
        "2020-09",
        lite.files / "2020-09_教委.xlsx",
        no_marker=True,
        unit_text="北京市教育委员会扶贫办",
    )
    failed = ingest_file(str(path), return_state=True)
    assert failed.is_failed() and "unknown reporting unit" in failed.message
    units = yaml.safe_load((conf / "units.yaml").read_text(encoding="utf-8"))
    next(b for b in units["bureaus"] if b["code"] == "education")["aliases"].append("北京市教育委员会扶贫办")
    (conf / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    result = ingest_file(str(path))
    rejected, sub = submissions(lite.engine)
    assert (result["status"], result["unit"], sub.submission_id, sub.status) == (
        "accepted",
        "education",
        result["submission_id"],
        "accepted",
    )
    with lite.engine.connect() as conn:
        kept = conn.execute(select(fct_validation_issue.c.submission_id, fct_validation_issue.c.rule)).all()
    assert rejected.status == "rejected" and kept == [(rejected.submission_id, "unknown_unit")], (
        "the retry keeps the earlier attempt's rejection and its located problem"
    )


def test_warnings_are_kept_without_rejecting(lite, cfg: Config) -> None:
    ingest_file(str(write_filled_report(cfg, cfg.unit("hotan"), "2020-09", lite.files / "sep.xlsx")))
    values = report_values(cfg, cfg.unit("hotan"), "2020-10")
    values.loc[values["row_no"] == 1, cfg.total_column] = 1.0
    result = ingest_file(
        str(write_filled_report(cfg, cfg.unit("hotan"), "2020-10", lite.files / "oct.xlsx", values=values))
    )
    assert (result["status"], result["n_warnings"]) == ("accepted", 1)
    with lite.engine.connect() as conn:
        [w] = conn.execute(select(fct_validation_issue)).all()
    assert (w.severity, w.rule, w.cell, w.row_no) == ("warning", "ytd_decrease", "E5", 1)


def test_a_file_dated_2030_does_not_stay_current_over_a_later_correction(env, cfg: Config) -> None:
    unit = cfg.unit("chaoyang")
    future = dated(write_filled_report(cfg, unit, "2020-09", env.files / "future.xlsx", seed=1), FUTURE)
    assert ingest_file(str(future))["status"] == "accepted"
    correction = write_filled_report(cfg, unit, "2020-09", env.files / "correction.xlsx", seed=2)
    assert ingest_file(str(correction))["superseded"] is not None
    rows = submissions(env.engine)
    assert {r.original_name: (r.version, r.is_current) for r in rows} == {
        "future.xlsx": (1, False),
        "correction.xlsx": (2, True),
    }
    assert all(r.received_at.year < FUTURE.year for r in rows), "arrival is the pipeline's clock, not the file's"


def test_a_backdated_late_file_counts_as_late(env, cfg: Config) -> None:
    on_time = dt.datetime(2020, 10, 10, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    path = dated(write_filled_report(cfg, cfg.unit("hotan"), "2020-09", env.files / "r.xlsx"), on_time)
    ingest_file(str(path))
    [sub] = submissions(env.engine)
    assert sub.is_late is True


def test_a_retry_of_the_same_bytes_keeps_the_first_arrival(lite, cfg: Config) -> None:
    path = write_filled_report(
        cfg, cfg.unit("hotan"), "2020-09", lite.files / "r.xlsx", unit_text="火星区扶贫办", no_marker=True
    )
    with pytest.raises(Exception, match="rejected"):
        ingest_file(str(path))
    [first] = submissions(lite.engine)
    with pytest.raises(Exception, match="rejected"):
        ingest_file(str(path))
    kept, again = submissions(lite.engine)
    assert kept == first and again.submission_id != first.submission_id, "each attempt is kept"
    assert again.received_at == first.received_at
