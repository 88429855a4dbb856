"""The labor steps load exactly the same with the file read, checked and keyed ahead in a child process as without
one: also when the child dies after its first batch (the rest is read in-process) or is never told the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from config import Config
from core.settings import Settings
from flows.labor_steps import ingest_labor_steps
from flows.runtime import Runtime
from fupin.demo.labor import Noise, generate_labor, write_csv
from tasks.intake.archive import receive_file
from tasks.labor.ahead import ReadAhead
from tasks.labor.tally import LaborCheck
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

MONTH = "2020-07"
CHILD_SIZES = (4, 3)  # the child's batches and its first one
ROWS = ["district_key", "person_key", "origin_key", "is_insured", "name", "id_masked", "employer", "insurance_status"]


class _DiesAfterFirst(ReadAhead):
    """A real child, killed once its first batch is taken."""

    def checks(self) -> Iterator[LaborCheck]:
        child = self._proc
        assert child is not None
        for n, check in enumerate(super().checks()):
            yield check
            if n == 0:
                child.kill()


@pytest.fixture
def rt(fupin_home: Path, cfg: Config) -> Iterator[Runtime]:
    settings = Settings.from_env()
    engine = make_engine(settings.warehouse_url)
    init_warehouse(engine, cfg)
    yield Runtime(settings, cfg, engine)
    engine.dispose()


def _people(cfg: Config) -> pd.DataFrame:
    """Noise anywhere, and a number first lapsed, then insured in another district rows later (another batch)."""
    people = generate_labor(cfg, {"朝阳区": 8, "海淀区": 6}, {}, Noise(lapsed=2, duplicates=2, invalid_ids=2), seed=9)
    people.loc[0, "参保状态"] = "停保"
    return pd.concat([people, people.iloc[[0]].assign(参保状态="在保", 就业区="西城区")], ignore_index=True)


def _load(rt: Runtime, path: Path, ahead: ReadAhead | None) -> dict:
    if ahead is None:
        return ingest_labor_steps(str(path), MONTH, max_invalid_ratio=0.2, batch_rows=CHILD_SIZES[0], rt=rt)
    with ahead:
        ahead.batch_rows, ahead.first_rows = CHILD_SIZES
        if not isinstance(ahead, _Untold):
            ahead.read(receive_file(path, rt.settings.paths.archive, 0), path.name, None, rt.settings.require_pii_key())
        return ingest_labor_steps(str(path), MONTH, max_invalid_ratio=0.2, rt=rt, ahead=ahead)


class _Untold(ReadAhead):
    """A child started but never told the file."""


def _rows(engine: Engine, sid: int) -> list[tuple]:
    with engine.connect() as conn:
        people = conn.execute(
            text(f"SELECT {', '.join(ROWS)} FROM restricted_labor_person WHERE submission_id = :s ORDER BY 1, 2"),
            {"s": sid},
        ).all()
        excluded = conn.execute(
            text(
                "SELECT source_row, column_name, rule, value_masked FROM fct_labor_invalid_row "
                "WHERE submission_id = :s ORDER BY 1, 2, 3"
            ),
            {"s": sid},
        ).all()
        employment = conn.execute(
            text(
                "SELECT origin_key, district_key, persons FROM fct_labor_employment WHERE submission_id = :s "
                "ORDER BY 1, 2"
            ),
            {"s": sid},
        ).all()
    return [tuple(r) for r in [*people, *excluded, *employment]]


def test_read_ahead_or_not_the_load_is_the_same(rt: Runtime, cfg: Config, tmp_path: Path) -> None:
    people = _people(cfg)
    loads = {}
    for n, (label, ahead) in enumerate(
        [
            ("in-process", None),
            ("ahead", ReadAhead.start()),
            ("child dies after its first batch", _DiesAfterFirst.start()),
            ("child never told the file", _Untold.start()),
        ]
    ):
        # The same rows under another title row: other bytes, so each load is a new file of the month.
        path = write_csv(people, tmp_path / f"labor-{n}.csv", title=f"建档立卡贫困劳动力在京就业情况 {label}")
        result = _load(rt, path, ahead)
        loads[label] = ({k: v for k, v in result.items() if k not in ("submission_id", "version")}, result)
    expected, first = loads["in-process"]
    assert expected["persons"] > 0 and expected["repeated"] and expected["excluded_rows"]
    baseline = _rows(rt.engine, first["submission_id"])
    for label, (summary, result) in loads.items():
        assert summary == expected, label
        assert _rows(rt.engine, result["submission_id"]) == baseline, label
