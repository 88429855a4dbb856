"""A district's labor list is written when the district asks for it: after a labor load, on its first download, and
again only when the month's labor file changes."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from fupin.demo.labor import generate_labor, write_csv
from tasks.intake.archive import sha256_of
from tasks.labor.lists import PEOPLE_SHEET, list_path
from tasks.labor.load import FileFacts, load_labor
from tasks.labor.read import read_labor
from tasks.labor.validate import validate_labor
from tests.web.conftest import MONTH, Platform


def _load(platform: Platform, seed: int, chaoyang: int) -> None:
    cfg, engine = platform.rt.config, platform.rt.engine
    path = write_csv(
        generate_labor(cfg, {"朝阳区": chaoyang, "海淀区": 2}, {}, seed=seed), platform.home / f"labor{seed}.csv"
    )
    facts = FileFacts(sha256_of(path.read_bytes()), path.name, "archive/x", dt.datetime.now(dt.UTC), MONTH)
    load_labor(engine, cfg, facts, validate_labor(read_labor(path, cfg), cfg), b"k" * 32)


def _people(content: bytes) -> int:
    return len(list(load_workbook(io.BytesIO(content), read_only=True)[PEOPLE_SHEET].iter_rows())) - 1


def test_the_first_download_writes_the_district_list_and_a_new_labor_file_rewrites_it(platform: Platform) -> None:
    folder = platform.home / "outputs" / MONTH / "labor"
    chaoyang = platform.signed_in("cy-clerk")
    assert chaoyang.get(f"/unit/labor-list?month={MONTH}").status_code == 404  # no labor file yet
    _load(platform, seed=1, chaoyang=3)
    assert "labor-list" in chaoyang.get(f"/unit?month={MONTH}").text, "the page offers the list before it exists"
    assert not folder.exists(), "the load wrote lists"
    first = chaoyang.get(f"/unit/labor-list?month={MONTH}")
    assert first.status_code == 200 and _people(first.content) == 3
    assert [p.name for p in folder.glob("*.xlsx")] == [list_path(folder, MONTH, "朝阳区").name], "only its own list"
    stamp = list_path(folder, MONTH, "朝阳区").stat().st_mtime_ns
    assert chaoyang.get(f"/unit/labor-list?month={MONTH}").content == first.content
    assert list_path(folder, MONTH, "朝阳区").stat().st_mtime_ns == stamp, "an unchanged list was rewritten"

    _load(platform, seed=2, chaoyang=5)  # version 2 of the month
    again = chaoyang.get(f"/unit/labor-list?month={MONTH}")
    assert again.status_code == 200 and _people(again.content) == 5
