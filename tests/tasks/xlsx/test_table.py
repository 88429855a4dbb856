"""The plain-table writer: what goes in comes back out through openpyxl, calamine and LibreOffice."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import fastexcel
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tasks.xlsx.table import Sheet, column_letter, write_table_workbook
from tests.libreoffice import CSV_UTF8, convert

AWKWARD = [
    "张三",
    'a "q" & <b>',
    "  lead and trail  ",
    "tab\there",
    "ctl\x01x",
    "_x0041_",
    None,
    "",
    "😀",
    "line\nbreak",
    "=1+1",
    "0012",
    "110105********1234",
]


def frame(values: list) -> pd.DataFrame:
    return pd.DataFrame({"name": values, "row": range(2, len(values) + 2)})


def calamine(path: Path, sheet: int = 0) -> list[list]:
    df = fastexcel.read_excel(str(path)).load_sheet(sheet, header_row=None, dtypes="string").to_pandas()
    return df.astype(object).where(df.notna(), None).values.tolist()


def test_text_comes_back_as_written_under_a_bold_frozen_header(tmp_path: Path) -> None:
    path = write_table_workbook(
        tmp_path / "名单.xlsx",
        [
            Sheet("人员名单", {"name": "姓名", "row": "行号"}, frame(AWKWARD)),
            Sheet("稳岗预警", {"name": "姓名"}, frame([])),
        ],
    )
    expected = [None if v in (None, "") else v.replace("\x01", "") for v in AWKWARD]
    assert calamine(path) == [["姓名", "行号"], *[[v, str(i)] for v, i in zip(expected, range(2, 15), strict=False)]]
    book = load_workbook(path)
    people = book["人员名单"]
    assert book.sheetnames == ["人员名单", "稳岗预警"]
    assert people["A1"].font.b and not people["A2"].font.b and people.freeze_panes == "A2"
    assert people["A5"].value == "tab\there" and people["A12"].data_type == "s", "a formula-looking text stays text"
    assert people.column_dimensions["A"].width >= 2 * len("110105********1234")
    assert list(book["稳岗预警"].values) == [("姓名",)]
    assert not list(tmp_path.glob(".*.tmp")), "written through a temporary file"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r"), max_size=30),
        min_size=1,
        max_size=40,
    )
)
def test_any_text_round_trips_through_calamine(tmp_path_factory, values: list[str]) -> None:
    path = write_table_workbook(
        tmp_path_factory.mktemp("x") / "t.xlsx", [Sheet("s", {"name": "h", "row": "r"}, frame(values))]
    )
    clean = [re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", v) for v in values]
    assert [r[0] for r in calamine(path)[1:]] == [v or None for v in clean]


def test_sheet_names_are_checked_and_columns_lettered() -> None:
    assert [column_letter(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
    with pytest.raises(ValueError, match="1-31"):
        write_table_workbook(Path("unused.xlsx"), [Sheet("x" * 32, {"name": "h"}, frame([]))])
    with pytest.raises(ValueError, match="unique"):
        write_table_workbook(Path("unused.xlsx"), [Sheet("s", {}, frame([])), Sheet("s", {}, frame([]))])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_same_cells(tmp_path: Path) -> None:
    values = [v for v in AWKWARD if v and "\x01" not in v and "\n" not in v]
    src = write_table_workbook(tmp_path / "t.xlsx", [Sheet("人员名单", {"name": "姓名", "row": "行号"}, frame(values))])
    run = convert(src, CSV_UTF8, tmp_path, profile=tmp_path / "lo")
    assert run.returncode == 0, run.stderr
    rows = list(csv.reader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert rows == [["姓名", "行号"], *[[v, str(i)] for v, i in zip(values, range(2, 2 + len(values)), strict=False)]]
