"""The fixture catalogue: one filled report per form, per clerk quirk and per rule, with what ingest must conclude."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from config import Config
from fupin.demo.reports import report_values, value_column, write_filled_report
from tasks.report.templates import FIRST_DATA_ROW

MONTH = "2020-09"


@dataclass(frozen=True)
class Fixture:
    """A file to write and what ingesting it must give: errors (rule, cell) or, when accepted, changed values."""

    name: str
    unit: str
    quirks: dict = field(default_factory=dict)
    errors: tuple[tuple[str, str | None], ...] = ()
    values: dict = field(default_factory=dict)  # (row_no, column) -> value expected instead of report_values
    month: str = MONTH


def cell(cfg: Config, unit: str, row_no: int, column: str) -> str:
    """The template address of a value cell, e.g. F14."""
    form = cfg.form(cfg.unit(unit).form_code)
    return f"{get_column_letter(value_column(cfg, form, column))}{FIRST_DATA_ROW + row_no - 1}"


def _v(cfg: Config, unit: str, row_no: int, column: str) -> float:
    df = report_values(cfg, cfg.unit(unit), MONTH)
    return float(df.loc[df["row_no"] == row_no, column].iloc[0])


def catalogue(cfg: Config) -> list[Fixture]:
    """Every fixture, built from config/ and the demo figures (so the expectations follow the declaration)."""
    d, b, p = cfg.units_of_form("表1")[2].code, cfg.units_of_form("表2")[3].code, cfg.units_of_form("表3")[0].code
    total, r1, r2 = cfg.total_column, cfg.region_names[0], cfg.region_names[1]
    dashes = dict(zip([total, *cfg.region_names], ["—", "-", "/", "无", None, None, "——"], strict=False))
    zeros = {(3, c): 0 for c in cfg.columns("表1")}

    def v(u: str, r: int, c: str) -> float:
        return _v(cfg, u, r, c)

    return [
        Fixture("good_表1", d),
        Fixture("good_表2", b),
        Fixture("good_表3", p),
        Fixture("text_numbers", d, {"text_numbers": True}),
        Fixture("fullwidth", b, {"fullwidth": True}),
        Fixture("percent_fraction", d, {"percent_fraction": True}),
        Fixture(
            "not_reported_and_zero",
            d,
            {"cells": {**{(2, c): x for c, x in dashes.items()}, **zeros}},
            values={**{(2, c): None for c in dashes}, **zeros},
        ),
        Fixture("formulas_uncached", d, {"formulas": True}),
        Fixture(
            "formula_unknown",
            p,
            {"cells": {(1, total): "=VLOOKUP(1,A1:B2,2)"}},
            errors=(("formula_uncomputed", cell(cfg, p, 1, total)),),
        ),
        Fixture("extra_sheets_notes_renamed", b, {"extra_sheet": True, "note_rows": True, "rename_sheet": "Sheet1"}),
        Fixture("retyped_表1", d, {"retyped": True}),
        Fixture("retyped_表3", p, {"retyped": True}),
        Fixture("alias_no_marker", cfg.unit("hr-social-security").code, {"no_marker": True, "unit_text": "市人社局"}),
        Fixture("sent_on_text_cn", p, {"no_marker": True, "sent_on": "2020年10月9日"}),
        Fixture("sent_on_text_dots", p, {"no_marker": True, "sent_on": "2020.10.9"}),
        Fixture("sent_on_retyped", p, {"retyped": True, "sent_on": "2020.10.9"}),
        Fixture("negative", p, {"cells": {(1, total): -5}}, errors=(("non_negative", cell(cfg, p, 1, total)),)),
        Fixture("fraction_count", p, {"cells": {(2, total): 2.5}}, errors=(("whole_number", cell(cfg, p, 2, total)),)),
        Fixture(
            "money_decimals", p, {"cells": {(4, total): 1.23456}}, errors=(("money_decimals", cell(cfg, p, 4, total)),)
        ),
        Fixture("rate_over_100", p, {"cells": {(6, total): 120}}, errors=(("rate_range", cell(cfg, p, 6, total)),)),
        Fixture(
            "total_not_sum",
            d,
            {"cells": {(1, total): v(d, 1, total) + 1}},
            errors=(("total_sum", cell(cfg, d, 1, total)),),
        ),
        Fixture(
            "total_rate_outside", d, {"cells": {(6, total): 100}}, errors=(("total_rate", cell(cfg, d, 6, total)),)
        ),
        Fixture(
            "part_over_parent",
            p,
            {"cells": {(26, total): v(p, 25, total) + 1}},
            errors=(("part_of_parent", cell(cfg, p, 26, total)),),
        ),
        Fixture(
            "parts_over_parent",
            d,
            {"cells": {(29, r1): v(d, 28, r1), (29, total): v(d, 29, total) - v(d, 29, r1) + v(d, 28, r1)}},
            errors=(("part_of_parent", cell(cfg, d, 29, r1)), ("part_of_parent", cell(cfg, d, 30, r1))),
        ),
        Fixture(
            "completed_over_projects",
            p,
            {"cells": {(7, total): v(p, 5, total) + 1}},
            errors=(("at_most", cell(cfg, p, 7, total)),),
        ),
        Fixture(
            "startups_over_trained",
            d,
            {"cells": {(50, r2): v(d, 49, r2) + 1, (50, total): v(d, 50, total) - v(d, 50, r2) + v(d, 49, r2) + 1}},
            errors=(("at_most", cell(cfg, d, 50, r2)),),
        ),
        Fixture(
            "indicator_renamed",
            b,
            {"indicator_text": {3: "培训干部"}},
            errors=(("indicator_mismatch", f"C{FIRST_DATA_ROW + 2}"),),
        ),
        Fixture("row_number_missing", b, {"row_numbers": {5: None}}, errors=(("missing_row", None),)),
        Fixture(
            "row_number_twice",
            b,
            {"row_numbers": {5: 4}},
            errors=(("duplicate_row", f"A{FIRST_DATA_ROW + 4}"), ("missing_row", None)),
        ),
        Fixture(
            "not_a_number", b, {"cells": {(1, total): "约100"}}, errors=(("not_a_number", cell(cfg, b, 1, total)),)
        ),
        Fixture(
            "unknown_unit", d, {"no_marker": True, "unit_text": "朝阳区扶贫办公室"}, errors=(("unknown_unit", None),)
        ),
        Fixture("wrong_form", b, {"no_marker": True, "unit_text": cfg.unit(d).name}, errors=(("wrong_form", None),)),
        Fixture("month_before_first", p, errors=(("month_out_of_range", None),), month="2019-12"),
        Fixture(
            "other_units_template",
            d,
            {"unit_text": cfg.units_of_form("表1")[3].name},
            errors=(("unit_conflict", None),),
        ),
        Fixture("last_months_copy", p, {"month_text": "月份: 2020年10月"}, errors=(("month_conflict", None),)),
    ]


def write_fixture(cfg: Config, fx: Fixture, out_dir: Path) -> Path:
    """Write one fixture; sent_on_* files carry no month in their name, so it must come from the sheet."""
    name = fx.name if fx.name.startswith("sent_on") else f"{fx.month}_{fx.name}"
    return write_filled_report(cfg, cfg.unit(fx.unit), fx.month, Path(out_dir) / f"{name}.xlsx", **fx.quirks)
