"""The labor row contract: every failure located by row and column, identity numbers masked in every message."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from config import Config
from contracts.identity import check_char
from contracts.labor import LaborPerson
from fupin.demo.labor import generate_labor
from tasks.labor.validate import validate_labor


def _valid_id(body: str) -> str:
    return body + check_char(body)


@pytest.fixture
def rows(cfg: Config) -> pd.DataFrame:
    people = generate_labor(cfg, by_district={"朝阳区": 6, "海淀区": 4}, by_paired_county={}, seed=7)
    frame = people.rename(columns={v[0]: k for k, v in cfg.labor.columns.items()})[list(cfg.labor.columns)]
    return frame.astype(str).assign(source_row=range(2, 2 + len(frame)))


def test_a_clean_file_passes_whole_and_districts_are_canonical(rows, cfg) -> None:
    check = validate_labor(rows, cfg)
    assert check.failures.empty and check.duplicates.empty
    assert len(check.valid) == 10 and set(check.valid["work_district"]) == {"朝阳区", "海淀区"}


def test_each_rule_is_reported_at_its_row_and_column_with_masked_values(rows, cfg) -> None:
    good = rows.at[0, "id_number"]
    rows.loc[0, "id_number"] = good[:17] + ("0" if good[17] != "0" else "1")  # wrong check character
    rows.loc[1, "id_number"] = _valid_id("110105" + "19990230" + "123")  # 30 February
    rows.loc[2, "id_number"] = "12345"  # wrong length
    rows.loc[3, "work_district"] = "天津市和平区"
    rows.loc[4, "insurance_status"] = "退休"
    rows.loc[5, "name"] = ""
    check = validate_labor(rows, cfg)
    got = {(r.source_row, r.column_name, r.rule) for r in check.failures.itertuples()}
    assert got == {
        (2, "公民身份号码", "id_checksum"),
        (3, "公民身份号码", "id_birth_date"),
        (4, "公民身份号码", "id_format"),
        (5, "就业区", "district"),
        (6, "参保状态", "insurance_status"),
        (7, "姓名", "str_length"),
    }
    assert check.n_invalid_rows == 6 and len(check.valid) == 4 and check.invalid_ratio == pytest.approx(0.6)
    text = check.failures.to_string() + " ".join(check.failures["message_zh"])
    assert good[:17] not in text and "19990230" not in text
    assert "110105********" in text and "天津市和平区" in text
    assert all(m.startswith("row ") for m in check.failures["message_en"])


def test_a_repeated_number_is_a_warning_and_counted_once_preferring_the_insured_row(rows, cfg) -> None:
    twin = rows.iloc[[0]].assign(source_row=100, insurance_status="停保")
    rows.loc[0, "insurance_status"] = "停保"
    twin["insurance_status"] = "在保"
    check = validate_labor(pd.concat([rows, twin], ignore_index=True), cfg)
    assert check.failures.empty
    assert check.duplicates["source_row"].tolist() == [2]
    kept = check.valid.loc[check.valid["id_number"] == rows.at[0, "id_number"]]
    assert kept["source_row"].tolist() == [100] and kept["is_insured"].tolist() == [True]
    assert check.duplicates["value_masked"].str.contains(r"\*{8}").all()


def test_the_kept_rows_hold_each_person_once_and_the_grain_contract_says_so(rows, cfg) -> None:
    twice = pd.concat([rows, rows.assign(source_row=rows["source_row"] + 100)], ignore_index=True)
    kept = validate_labor(twice, cfg).valid
    assert len(LaborPerson.validate(kept, lazy=True)) == len(kept) == len(rows)
    with pytest.raises(pa.errors.SchemaErrors, match="id_number"):
        LaborPerson.validate(pd.concat([kept, kept.tail(1).assign(source_row=999)]), lazy=True)


FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}
ARABIC_INDIC = {ord(c): 0x0660 + int(c) for c in "0123456789"}


def test_a_full_width_twin_is_the_same_person_and_other_digit_scripts_are_refused(rows, cfg) -> None:
    twin = rows.iloc[[0]].assign(source_row=100, id_number=rows.at[0, "id_number"].translate(FULL_WIDTH))
    rows.loc[1, "id_number"] = rows.at[1, "id_number"].translate(ARABIC_INDIC)
    bad_body = "110105" + "19990230" + "123"  # full width no longer skips the date check
    rows.loc[2, "id_number"] = (bad_body + check_char(bad_body)).translate(FULL_WIDTH)
    check = validate_labor(pd.concat([rows, twin], ignore_index=True), cfg)
    assert {(r.source_row, r.rule) for r in check.failures.itertuples()} == {(3, "id_digits"), (4, "id_birth_date")}
    assert "0-9" in check.failures.loc[check.failures["rule"] == "id_digits", "message_en"].iloc[0]
    assert check.duplicates["source_row"].tolist() == [100]
    assert len(check.valid) == 8 and check.valid["id_number"].str.isascii().all()


def test_a_control_character_is_a_located_rejection_that_shows_nothing_of_the_value(rows, cfg) -> None:
    rows.loc[0, "name"] = "张\x00三"
    rows.loc[1, "employer"] = "北京\x1b[31m公司"
    rows.loc[2, "id_number"] = rows.at[2, "id_number"][:17] + "\x00"
    check = validate_labor(rows, cfg)
    got = {(r.source_row, r.column_name, r.rule) for r in check.failures.itertuples()}
    assert got == {
        (2, "姓名", "control_character"),
        (3, "用工单位", "control_character"),
        (4, "公民身份号码", "control_character"),
    }
    text = check.failures.to_string() + "".join(check.failures["message_zh"]) + "".join(check.failures["message_en"])
    assert "张" not in text and "北京" not in text and "\x00" not in text and rows.at[2, "id_number"][:6] not in text
    assert (
        check.failures["message_en"].tolist()[0] == "row 2, 姓名: holds a control character (NUL, line break...): "
        "remove it"
    )
