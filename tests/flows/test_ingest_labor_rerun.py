"""`make demo` twice: the same labor file a second time loads nothing and writes nothing, and says so."""

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
    assert first["lists_written"] and not first["already_loaded"]
    lists = fupin_home / "outputs" / "2020-09" / "labor"
    before = _snapshot(lists)
    assert len(before) == len(cfg.districts) + 1  # the lists and their manifest, no temp file left

    second = ingest_labor(str(path), "2020-09")
    assert second["already_loaded"] and not second["lists_written"] and second["lists"] == first["lists"]
    assert _snapshot(lists) == before, "an unchanged file rewrote the district lists"

    monkeypatch.setattr(sys, "argv", ["fupin", "labor", str(path), "--month", "2020-09"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 0 and "nothing changed" in capsys.readouterr().out
    assert _snapshot(lists) == before
