"""config/ matches the notice (京援合办发〔2020〕24号) and its careful reading, row by row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import Config, load_config
from config.model import MEASURE_KINDS

NOTICE_DIR = Path(__file__).resolve().parents[1] / "docs" / "notice"
NOTICE = NOTICE_DIR / "000_33f39aae07102303.txt"
READING = NOTICE_DIR / "READING.md"


def _needs(path: Path) -> Path:
    assert path.exists(), f"{path} is missing: the notice and its reading are part of the repository"
    return path


def _reading_tables() -> dict[str, list[tuple[int, str, str, str]]]:
    out: dict[str, list] = {}
    for section in re.split(r"^## ", _needs(READING).read_text(encoding="utf-8"), flags=re.MULTILINE):
        form = re.match(r"(表[123]) —", section)
        if form:
            out[form[1]] = [
                (int(m[1]), m[2], m[3], m[4])
                for m in re.finditer(r"^\| (\d+) \| (.+?) \| (.+?) \| (.+?) \|$", section, flags=re.MULTILINE)
            ]
    return out


def test_row_counts(cfg: Config) -> None:
    assert [(f.code, len(f.rows)) for f in cfg.forms] == [("表1", 51), ("表2", 20), ("表3", 53)]
    assert sum(len(f.rows) for f in cfg.forms) == 124


def test_every_row_matches_the_reading_verbatim(cfg: Config) -> None:
    tables = _reading_tables()
    assert set(tables) == {"表1", "表2", "表3"}
    for form in cfg.forms:
        declared = [(r.row_no, r.category, r.indicator, r.measure_unit) for r in form.rows]
        assert declared == tables[form.code], form.code


def test_every_indicator_appears_in_the_notice_text(cfg: Config) -> None:
    text = "".join(_needs(NOTICE).read_text(encoding="utf-8").split()).replace("\u3000", "")
    assert [i.key for i in cfg.indicators if i.indicator not in text] == []


def test_columns_and_kinds(cfg: Config) -> None:
    assert cfg.columns("表1") == ("合计", "内蒙古", "河北", "西藏", "青海", "新疆", "其他")
    assert cfg.columns("表2") == cfg.columns("表1")
    assert cfg.columns("表3") == ("合计",)
    assert {i.measure_unit for i in cfg.indicators} == set(MEASURE_KINDS)
    assert cfg.form("表1").row(6).kind == "rate" and cfg.form("表1").row(4).kind == "money"


@pytest.mark.parametrize(
    "form, parts",
    [
        ("表1", {27: 26, 29: 28, 30: 28}),
        ("表2", {11: 10, 13: 12, 14: 12}),
        ("表3", {26: 25, 28: 27, 29: 27}),
    ],
)
def test_parts_of_parent_rows(cfg: Config, form: str, parts: dict[int, int]) -> None:
    assert {r.row_no: r.parent for r in cfg.form(form).rows if r.parent} == parts


def test_units(cfg: Config) -> None:
    districts = [
        "东城",
        "西城",
        "朝阳",
        "海淀",
        "丰台",
        "石景山",
        "门头沟",
        "房山",
        "通州",
        "顺义",
        "昌平",
        "大兴",
        "怀柔",
        "平谷",
        "密云",
        "延庆",
    ]
    assert [u.short_name for u in cfg.districts] == districts
    assert all(u.form_code == "表1" for u in cfg.districts)
    assert {u.region for u in cfg.units_of_form("表3")} == {"新疆", "西藏", "青海"}
    assert len({u.code for u in cfg.units}) == len(cfg.units)
    for name in (
        "市委组织部",
        "市委宣传部",
        "市委网信办",
        "市教委",
        "市经济和信息化局",
        "市公安局",
        "市民政局",
        "市人力资源社会保障局",
        "市住房城乡建设委",
        "市交通委",
        "市农业农村局",
        "市商务局",
        "市卫生健康委",
        "市国资委",
        "市粮食局",
        "市工商联",
        "市场监管局",
    ):
        unit = cfg.resolve_unit(name)
        assert unit is not None and unit.form_code == "表2", name


@pytest.mark.parametrize("text", ["朝阳", "朝阳区", "北京市朝阳区", " 朝阳区 ", "chaoyang"])
def test_aliases_resolve(cfg: Config, text: str) -> None:
    assert cfg.resolve_unit(text).code == "chaoyang"


def test_aliases_are_unambiguous(cfg: Config) -> None:
    from config import normalize_text

    seen: dict[str, str] = {}
    for u in cfg.units:
        for text in {normalize_text(t) for t in (u.code, u.name, u.official_name, *u.aliases)}:
            assert seen.setdefault(text, u.code) == u.code, f"{text} names {seen[text]} and {u.code}"


def test_paired_counties_and_reference_figures(cfg: Config) -> None:
    assert len(cfg.paired_counties) == 54
    assert sum(c.province == "内蒙古自治区" for c in cfg.paired_counties) == 31
    assert sum(c.province == "河北省" for c in cfg.paired_counties) == 23
    ref = cfg.reference
    assert sum(ref["labor_by_district"].values()) == 326_731
    assert set(ref["labor_by_district"]) == {u.name for u in cfg.districts}
    hebei = ref["labor_by_paired_county"]["河北省"]
    assert sum(hebei["counties"].values()) == hebei["total"] == 17_634
    im = ref["labor_by_paired_county"]["内蒙古自治区"]
    known = sum(v for v in im["counties"].values() if v is not None)
    assert known + sum(im["unplaced_figures"]) == im["total"] == 1_940
    assert "河北省" not in cfg.central_western_provinces and "内蒙古自治区" in cfg.central_western_provinces


def test_calendar_and_targets(cfg: Config) -> None:
    assert str(cfg.deadline("2020-09")) == "2020-10-10"
    assert str(cfg.deadline("2020-12")) == "2021-01-10"
    consumption = next(t for t in cfg.targets if t.code == "consumption_aid_2020")
    assert consumption.target == 200 and consumption.measure_unit == "亿元"
    assert [i.key for i in cfg.concepts["consumption_aid_amount"]] == ["表1-31", "表2-19", "表3-32"]


def test_a_config_error_names_the_problem(tmp_path: Path) -> None:
    import shutil

    for f in (Path(load_config().directory)).glob("*.yaml"):
        shutil.copy(f, tmp_path)
    forms = tmp_path / "forms.yaml"
    forms.write_text(forms.read_text(encoding="utf-8").replace("parent: 26", "parent: 99"), encoding="utf-8")
    with pytest.raises(ValueError, match="missing row 99"):
        load_config(tmp_path)


def test_a_unit_fills_the_form_declared_for_its_kind(tmp_path: Path) -> None:
    import shutil

    for f in (Path(load_config().directory)).glob("*.yaml"):
        shutil.copy(f, tmp_path)
    forms = tmp_path / "forms.yaml"
    text = forms.read_text(encoding="utf-8")
    swapped = text.replace("unit_kind: bureau", "unit_kind: @").replace("unit_kind: front_post", "unit_kind: bureau")
    forms.write_text(swapped.replace("unit_kind: @", "unit_kind: front_post"), encoding="utf-8")
    cfg = load_config(tmp_path)
    assert {u.kind: u.form_code for u in cfg.units} == {"district": "表1", "bureau": "表3", "front_post": "表2"}
    assert all(cfg.form(u.form_code).unit_kind == u.kind for u in cfg.units)


def test_lateness_is_judged_by_the_office_date(cfg: Config) -> None:
    import datetime as dt

    utc = dt.UTC
    assert cfg.is_late("2020-09", dt.datetime(2020, 10, 10, 15, 59, tzinfo=utc)) is False  # 23:59 in Beijing
    assert cfg.is_late("2020-09", dt.datetime(2020, 10, 10, 16, 0, tzinfo=utc)) is True  # 00:00 on the 11th
    assert cfg.is_late("2020-12", dt.datetime(2021, 1, 10, 12, 0, tzinfo=utc)) is False
