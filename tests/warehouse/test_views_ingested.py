"""The analyst views over files loaded by the real ingest-file flow: the loader's conventions are what they assume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from config import Config
from flows.ingest_file import ingest_file
from fupin.demo.reports import report_values, write_filled_report
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

pytestmark = pytest.mark.prefect
MONTH = "2020-08"


@pytest.fixture
def ingested(
    prefect_api, fupin_home: Path, sqlite_url: str, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """Three files through the flow: 朝阳区 twice (a restatement) and one bureau."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", sqlite_url)
    engine = make_engine(sqlite_url)
    init_warehouse(engine, cfg, months=["2020-12"])
    district, bureau = cfg.unit("chaoyang"), cfg.units_of_form("表2")[0]
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        for unit, seed in ((district, 0), (district, 1), (bureau, 0)):
            path = write_filled_report(cfg, unit, MONTH, fupin_home / "in" / f"{unit.code}-{seed}.xlsx", seed=seed)
            assert ingest_file(str(path))["status"] == "accepted"
    yield engine
    engine.dispose()


def rows(engine: Engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def test_views_read_what_the_ingest_flow_loaded(ingested: Engine, cfg: Config) -> None:
    subs = rows(
        ingested,
        "SELECT unit_code, version, is_current, original_name FROM v_submission "
        "WHERE kind = 'report' ORDER BY submission_id",
    )
    assert [(s["unit_code"], s["version"], bool(s["is_current"])) for s in subs] == [
        ("chaoyang", 1, False),
        ("chaoyang", 2, True),
        (cfg.units_of_form("表2")[0].code, 1, True),
    ]

    consumption = next(i for i in cfg.form("表1").rows if i.concept == "consumption_aid_amount")
    history = rows(
        ingested,
        "SELECT version, value, original_name FROM v_indicator_history WHERE unit_code = "
        "'chaoyang' AND row_no = :r AND form_code = '表1' AND region = :t ORDER BY version",
        r=consumption.row_no,
        t=cfg.total_column,
    )
    sent = [
        report_values(cfg, cfg.unit("chaoyang"), MONTH, seed)
        .set_index("row_no")
        .loc[consumption.row_no, cfg.total_column]
        for seed in (0, 1)
    ]
    assert [h["value"] for h in history] == pytest.approx(sent)
    assert [h["original_name"] for h in history] == ["chaoyang-0.xlsx", "chaoyang-1.xlsx"]

    done = rows(ingested, "SELECT unit_code FROM v_completeness WHERE month = :m AND reported", m=MONTH)
    assert {d["unit_code"] for d in done} == {"chaoyang", cfg.units_of_form("表2")[0].code}

    city = rows(
        ingested,
        "SELECT form_code, value, n_units FROM v_concept_month WHERE month = :m AND concept = 'consumption_aid_amount'",
        m=MONTH,
    )
    by_form = {c["form_code"]: c for c in city}
    assert by_form["表1"]["n_units"] == 1 and by_form["表1"]["value"] == pytest.approx(sent[1])
    assert by_form[cfg.total_column]["value"] == pytest.approx(by_form["表1"]["value"] + by_form["表2"]["value"])
