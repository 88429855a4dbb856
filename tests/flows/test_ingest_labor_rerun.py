"""`make demo` twice: the same labor file a second time loads nothing and writes nothing, and says so; the district
lists are written by `fupin labor-lists`, not by the load, and an unchanged month is never rewritten."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.settings import Settings
from fupin import cli
from fupin.demo.labor import Noise, generate_labor, write_csv
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

pytestmark = pytest.mark.prefect


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


def _fupin(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["fupin", *args])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    captured = capsys.readouterr()
    return int(exit_.value.code or 0), captured.out + captured.err


def test_the_same_file_twice_leaves_the_lists_untouched_and_reports_nothing_changed(
    prefect_api, fupin_home, cfg, tmp_path, monkeypatch, capsys
) -> None:
    from flows.ingest_labor import ingest_labor

    engine = make_engine(Settings.from_env().warehouse_url)
    init_warehouse(engine, cfg)
    engine.dispose()
    people = generate_labor(cfg, {u.name: 2 for u in cfg.districts}, {}, Noise(duplicates=2), seed=3)
    path = write_csv(people, tmp_path / "人社局_2020-09.csv", encoding="gb18030")
    first = ingest_labor(str(path), "2020-09")
    assert not first["already_loaded"] and first["persons"] == 2 * len(cfg.districts)
    lists = fupin_home / "outputs" / "2020-09" / "labor"
    assert not lists.exists(), "the load wrote district lists: they are written on demand"

    code, out = _fupin(monkeypatch, capsys, "labor-lists", "--month", "2020-09")
    assert code == 0 and f"{len(cfg.districts)} district list(s) written" in out
    before = _snapshot(lists)
    assert len([n for n in before if n.endswith(".xlsx")]) == len(cfg.districts)
    assert not [n for n in before if n.startswith(".tmp-")], "no temp file left"

    second = ingest_labor(str(path), "2020-09")
    assert second["already_loaded"] and second["submission_id"] == first["submission_id"]
    code, out = _fupin(monkeypatch, capsys, "labor", str(path), "--month", "2020-09")
    assert code == 0 and "nothing changed" in out
    code, out = _fupin(monkeypatch, capsys, "labor-lists", "--month", "2020-09")
    assert code == 0 and "0 district list(s) written" in out
    assert _snapshot(lists) == before, "an unchanged month rewrote the district lists"


def test_labor_lists_exit_codes_and_one_district(prefect_api, fupin_home, cfg, tmp_path, monkeypatch, capsys) -> None:
    from flows.ingest_labor import ingest_labor

    engine = make_engine(Settings.from_env().warehouse_url)
    init_warehouse(engine, cfg)
    engine.dispose()
    assert _fupin(monkeypatch, capsys, "labor-lists", "--month", "2020-13")[0] == 2
    assert _fupin(monkeypatch, capsys, "labor-lists", "--month", "2020-09", "--district", "天津")[0] == 2
    code, out = _fupin(monkeypatch, capsys, "labor-lists", "--month", "2020-09")
    assert code == 1 and "no labor file" in out
    people = generate_labor(cfg, {u.name: 2 for u in cfg.districts}, {}, seed=4)
    ingest_labor(str(write_csv(people, tmp_path / "m.csv")), "2020-09")
    code, out = _fupin(monkeypatch, capsys, "labor-lists", "--month", "2020-09", "--district", "朝阳")
    assert code == 0 and "1 district list(s) written" in out
    assert [p.name for p in (fupin_home / "outputs" / "2020-09" / "labor").glob("*.xlsx")] == [
        "2020-09_朝阳区_建档立卡贫困劳动力.xlsx"
    ]
