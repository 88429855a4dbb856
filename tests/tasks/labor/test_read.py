"""Reading the HR bureau's export: xlsx or CSV in any of its encodings, title rows, aliases, row numbers."""

from __future__ import annotations

import pandas as pd
import pytest
import xlsxwriter

from config import Config
from fupin.demo.labor import generate_labor, write_csv, write_xlsx
from tasks.labor.read import LaborFileError, read_labor


@pytest.fixture(scope="module")
def people(cfg: Config) -> pd.DataFrame:
    return generate_labor(
        cfg, by_district={"朝阳区": 4, "东城区": 3}, by_paired_county={("河北省", "承德市", "滦平县"): 2}
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_in_every_encoding_with_a_title_row_reads_the_same(people, cfg, tmp_path, encoding) -> None:
    path = write_csv(people, tmp_path / "labor.csv", encoding=encoding, title="2020年7月建档立卡贫困劳动力在京就业名单")
    got = read_labor(path, cfg)
    assert got["id_number"].tolist() == people["公民身份号码"].tolist()
    assert got["name"].tolist() == people["姓名"].tolist()
    assert got["source_row"].tolist() == list(range(3, 3 + len(people)))
    assert list(got.columns) == ["source_row", *cfg.labor.columns]


def test_xlsx_found_by_content_despite_renamed_sheet_title_rows_aliases_and_extras(people, cfg, tmp_path) -> None:
    path = tmp_path / "renamed.xlsx"
    frame = people.rename(columns={"公民身份号码": "身份证号码", "就业区": "就业地区"}).assign(备注="x")
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("说明").write(0, 0, "本表为人社局导出")
    ws = book.add_worksheet("Sheet名已改")
    ws.write(0, 0, "北京市人力资源和社会保障局")
    ws.write(1, 0, "导出时间: 2020-07-01")
    ws.write_row(3, 1, list(frame.columns))  # header on row 4, table starts in column B
    for r, row in enumerate(frame.astype(str).itertuples(index=False), start=4):
        ws.write_row(r, 1, list(row))
    book.close()
    got = read_labor(path, cfg)
    assert got["id_number"].tolist() == people["公民身份号码"].tolist()
    assert got["work_district"].tolist() == people["就业区"].tolist()
    assert got["source_row"].tolist() == list(range(5, 5 + len(people)))


def test_a_plain_xlsx_export_keeps_excel_row_numbers(people, cfg, tmp_path) -> None:
    got = read_labor(write_xlsx(people, tmp_path / "p.xlsx", title="标题"), cfg)
    assert got["source_row"].tolist() == list(range(3, 3 + len(people)))
    assert got["insurance_status"].eq("在保").all()


def test_missing_columns_are_named(people, cfg, tmp_path) -> None:
    path = write_csv(people.drop(columns=["参保状态", "户籍县"]), tmp_path / "short.csv")
    with pytest.raises(LaborFileError, match="户籍县、参保状态"):
        read_labor(path, cfg)


def test_other_formats_and_garbage_are_refused(cfg, tmp_path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    for name in ("x.pdf", "x.xlsx"):
        with pytest.raises(LaborFileError):
            read_labor(tmp_path / name, cfg)
