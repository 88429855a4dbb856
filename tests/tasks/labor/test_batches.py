"""The whole-file rules hold across batch edges: one row per identity number (an insured row wins over an earlier
lapsed one, else the first stays), every repeated number reported, max_invalid_ratio decided on the whole file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from config import Config
from fupin.demo.labor import generate_labor, write_csv
from tasks.intake.archive import sha256_of
from tasks.labor.load import FileFacts, TooManyInvalid, load_labor_batches
from tasks.labor.read import LaborFileError, iter_labor, read_labor
from tasks.labor.validate import validate_labor

KEY = b"k" * 32
INSURED, LAPSED = "在保", "停保"


def _file(cfg: Config, tmp_path: Path) -> Path:
    """20 people (rows 2-11, 13-22), then the same numbers again: a twin of row 11 at row 12 (a batch of 2 or 5
    splits them), row 3 lapsed at 23, an invalid row 24, row 2 (lapsed) insured at 25, row 4 lapsed again at 26."""
    people = generate_labor(cfg, {"朝阳区": 10, "海淀区": 10}, {}, seed=11).astype({"序号": str})
    people.loc[0, "参保状态"] = LAPSED  # the header is row 1: this is row 2
    people.loc[2, "参保状态"] = LAPSED  # row 4
    later_insured = people.iloc[[0]].assign(参保状态=INSURED, 就业区="西城区")  # row 25, in another district
    later_lapsed = people.iloc[[1]].assign(参保状态=LAPSED)  # the earlier insured row stays
    lapsed_again = people.iloc[[2]]  # lapsed twice: the first stays
    twin = people.iloc[[9]]
    bad = people.iloc[[5]].assign(公民身份号码="12345")
    frame = pd.concat(
        [people.iloc[:10], twin, people.iloc[10:], later_lapsed, bad, later_insured, lapsed_again], ignore_index=True
    )
    return write_csv(frame, tmp_path / "people.csv")


def _facts(path: Path) -> FileFacts:
    return FileFacts(sha256_of(path.read_bytes()), path.name, "archive/x", dt.datetime.now(dt.UTC), "2020-07")


def _load(engine: Engine, cfg: Config, path: Path, batch_rows: int, max_ratio: float = 1.0, first: int | None = None):
    def checks():
        return (validate_labor(f, cfg) for f in iter_labor(path, cfg, batch_rows=batch_rows, first_rows=first))

    return load_labor_batches(engine, cfg, _facts(path), checks, KEY, max_ratio)


def _stored(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        people = conn.execute(
            text("SELECT source_row, district_key, is_insured FROM restricted_labor_person ORDER BY source_row")
        ).all()
        cells = conn.execute(
            text("SELECT origin_key, district_key, persons FROM fct_labor_employment ORDER BY 1, 2")
        ).all()
    return [tuple(r) for r in people] + [("cell", *r) for r in cells]


@pytest.mark.parametrize(("batch_rows", "first"), [(1, None), (2, None), (5, None), (7, None), (10_000, None), (8, 1)])
def test_any_batch_size_keeps_the_rows_the_whole_file_rule_keeps(
    sqlite_engine, cfg, tmp_path, batch_rows, first
) -> None:
    path = _file(cfg, tmp_path)
    whole = validate_labor(read_labor(path, cfg), cfg)
    result = _load(sqlite_engine, cfg, path, batch_rows, first=first)
    assert result.check is not None
    assert sorted(r[0] for r in _stored(sqlite_engine) if r[0] != "cell") == sorted(whole.valid["source_row"])
    assert result.check.duplicates["source_row"].tolist() == whole.duplicates["source_row"].tolist()
    assert result.check.duplicates["value_masked"].tolist() == whole.duplicates["value_masked"].tolist()
    assert (result.check.n_rows, result.check.n_invalid_rows) == (whole.n_rows, whole.n_invalid_rows) == (25, 1)
    assert (result.persons, result.insured) == (20, int(whole.valid["is_insured"].sum()))


def test_an_insured_row_in_a_later_batch_displaces_the_lapsed_one_and_counts_once(engine, cfg, tmp_path) -> None:
    path = _file(cfg, tmp_path)
    _load(engine, cfg, path, batch_rows=5)
    stored = _stored(engine)
    by_row = {r[0]: r for r in stored if r[0] != "cell"}
    assert 2 not in by_row and by_row[25][2], "the insured row (25) replaced the lapsed one (2)"
    assert by_row[3][2] and 23 not in by_row, "an insured row stays against a later lapsed one"
    assert 4 in by_row and 26 not in by_row, "of two lapsed rows, the first stays"
    assert 11 in by_row and 12 not in by_row, "a twin just after a batch edge is dropped"
    assert len(by_row) == 20
    in_cells = sum(r[3] for r in stored if r[0] == "cell")
    assert in_cells == sum(1 for r in by_row.values() if r[2]), "fct_labor_employment counts each insured once"


def test_max_invalid_ratio_is_decided_on_the_whole_file_and_rolls_back(engine, cfg, tmp_path) -> None:
    path = _file(cfg, tmp_path)  # 1 invalid row of 25, in the last batches
    with pytest.raises(TooManyInvalid) as refused:
        _load(engine, cfg, path, batch_rows=4, max_ratio=0.03)
    assert (refused.value.tally.n_invalid_rows, refused.value.tally.n_rows) == (1, 25)
    with engine.connect() as conn:
        for table in ("restricted_labor_person", "fct_labor_invalid_row", "fct_submission", "fct_labor_employment"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
    assert _load(engine, cfg, path, batch_rows=4, max_ratio=0.04).persons == 20


def test_batches_have_the_size_asked_and_keep_the_file_row_numbers(cfg, tmp_path) -> None:
    path = _file(cfg, tmp_path)
    batches = list(iter_labor(path, cfg, batch_rows=4))
    assert [len(b) for b in batches] == [4] * 6 + [1]
    assert pd.concat(batches)["source_row"].tolist() == list(range(2, 27))
    growing = list(iter_labor(path, cfg, batch_rows=8, first_rows=1))  # as the command's child reads
    assert [len(b) for b in growing] == [1, 2, 3, 4, 6, 8, 1]
    assert pd.concat(growing)["source_row"].tolist() == list(range(2, 27))


def test_a_broken_row_in_a_later_batch_is_located_and_nothing_is_loaded(sqlite_engine, cfg, tmp_path) -> None:
    path = _file(cfg, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = lines[19].split(",")[3]
    lines[19] = lines[19].rstrip("\n") + ",ZZQQ9\n"  # row 20 has one field too many, three batches in
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(LaborFileError) as refused:
        _load(sqlite_engine, cfg, path, batch_rows=4)
    assert refused.value.rule == "csv_field_count" and "第20行" in str(refused.value)
    assert "ZZQQ9" not in str(refused.value) and number not in str(refused.value), "a cell's content was quoted"
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM restricted_labor_person")).scalar_one() == 0


def test_a_batchs_fast_mask_is_mask_ids() -> None:
    """The load masks checked numbers over their bytes; what it writes is exactly contracts.identity's mask."""
    from contracts.identity import mask_ids
    from tasks.labor.batches import _masked

    ids = pd.Series(["110105199001011234", "44030419851231002X", "652901200002290017"], index=[3, 7, 9])

    fast = _masked(ids)

    assert fast.index.tolist() == [3, 7, 9]
    assert fast.tolist() == mask_ids(ids).tolist() == ["110105********1234", "440304********002X", "652901********0017"]
