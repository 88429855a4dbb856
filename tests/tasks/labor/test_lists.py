"""District lists: each district gets only its own people, and a 稳岗 sheet of those it kept last month but not now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from openpyxl import load_workbook
from sqlalchemy import text

from fupin.demo.labor import generate_labor, write_csv
from tasks.intake.archive import sha256_of
from tasks.labor.lists import GONE, PEOPLE_SHEET, WARNING_SHEET, write_district_lists
from tasks.labor.load import FileFacts, load_labor
from tasks.labor.read import read_labor
from tasks.labor.validate import validate_labor


def _load(engine, cfg, frame: pd.DataFrame, path, month: str) -> None:
    write_csv(frame, path)
    check = validate_labor(read_labor(path, cfg), cfg)
    facts = FileFacts(sha256_of(path.read_bytes()), path.name, "archive/x", dt.datetime.now(dt.UTC), month)
    load_labor(engine, cfg, facts, check, b"k")


def _sheet(path, name: str) -> pd.DataFrame:
    ws = load_workbook(path, read_only=True)[name]
    rows = list(ws.values)
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_each_district_list_holds_its_own_people_only_and_warns_about_those_lost(sqlite_engine, cfg, tmp_path) -> None:
    counts = {u.name: 3 + n for n, u in enumerate(cfg.districts)}
    june = generate_labor(cfg, counts, {("河北省", "保定市", "唐县"): 4}, seed=11)
    _load(sqlite_engine, cfg, june, tmp_path / "06.csv", "2020-06")
    july = june.copy()
    chaoyang = july["就业区"].str.contains("朝阳")
    lapsed, gone = july.index[chaoyang][:1], july.index[chaoyang][1:3]
    july.loc[lapsed, "参保状态"] = "停保"
    july = july.drop(index=gone)
    _load(sqlite_engine, cfg, july, tmp_path / "07.csv", "2020-07")

    paths = write_district_lists(sqlite_engine, cfg, "2020-07", tmp_path / "lists").paths
    assert len(paths) == len(cfg.districts)

    def masked(ids: Iterable[str]) -> set[str]:
        return {i[:6] + "********" + i[-4:] for i in ids}

    seen = set()
    for unit, path in zip(cfg.districts, paths, strict=False):
        assert unit.name in path.name
        people = _sheet(path, PEOPLE_SHEET)
        own = july.loc[july["就业区"].map(lambda t: cfg.resolve_unit(t).name) == unit.name]
        assert set(people["公民身份号码(脱敏)"]) == masked(own["公民身份号码"]), unit.name
        assert not set(people["公民身份号码(脱敏)"]) & seen
        seen |= set(people["公民身份号码(脱敏)"])
        assert not set(own["公民身份号码"]) & set(people.astype(str).to_numpy().ravel())  # never a raw number
        warnings = _sheet(path, WARNING_SHEET)
        if unit.name == "朝阳区":
            assert set(warnings["公民身份号码(脱敏)"]) == masked(june.loc[lapsed.union(gone), "公民身份号码"])
            assert sorted(warnings["2020-07 情况"]) == sorted(["停保", GONE, GONE])
        else:
            assert warnings.empty
    with sqlite_engine.connect() as conn:
        kept, gone, new = conn.execute(
            text("SELECT kept, gone, new FROM v_labor_retention WHERE month = '2020-07' AND district = '朝阳区'")
        ).one()
    assert (kept, gone, new) == (int(june["就业区"].str.contains("朝阳").sum()) - 3, 3, 0)
