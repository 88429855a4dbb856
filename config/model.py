"""Typed model of the office's declaration: forms, units, regions, calendar, targets, labor and mail."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["count", "money", "rate"]
UnitKind = Literal["district", "bureau", "front_post"]

MEASURE_KINDS: dict[str, Kind] = {
    "人次": "count",
    "人": "count",
    "个": "count",
    "期": "count",
    "亿元": "money",
    "%": "rate",
}
MONEY_DECIMALS = 4


def normalize_text(text: object) -> str:
    """NFKC-fold full-width forms and drop all whitespace, for matching what clerks type."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Indicator(_Frozen):
    """One numbered row of a form; (form, row_no) is its identity."""

    form_code: str = ""
    row_no: int
    category: str
    indicator: str
    measure_unit: Literal["人次", "人", "个", "期", "亿元", "%"]
    parent: int | None = None
    at_most: int | None = None
    weight_row: int | None = None
    concept: str | None = None

    @property
    def kind(self) -> Kind:
        return MEASURE_KINDS[self.measure_unit]

    @property
    def key(self) -> str:
        return f"{self.form_code}-{self.row_no}"


class Form(_Frozen):
    """One of the three forms of Attachment 2."""

    code: str
    title: str
    unit_kind: UnitKind
    by_region: bool
    rows: tuple[Indicator, ...]

    @model_validator(mode="after")
    def _check_rows(self) -> Form:
        numbers = [r.row_no for r in self.rows]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"{self.code}: 序号 must run 1..n without gaps")
        for r in self.rows:
            for ref in (r.parent, r.at_most, r.weight_row):
                if ref is not None and ref not in numbers:
                    raise ValueError(f"{self.code} row {r.row_no} refers to missing row {ref}")
        return self

    def row(self, row_no: int) -> Indicator:
        return self.rows[row_no - 1]

    def children(self, row_no: int) -> list[Indicator]:
        return [r for r in self.rows if r.parent == row_no]


class Unit(_Frozen):
    """A reporting unit (填报单位)."""

    code: str
    name: str
    official_name: str
    kind: UnitKind
    form_code: str
    email: str
    region: str | None = None
    aliases: tuple[str, ...] = ()
    sort_order: int = 0

    @property
    def short_name(self) -> str:
        return self.name[:-1] if self.kind == "district" and self.name.endswith("区") else self.name


class ReportRegion(_Frozen):
    name: str
    province: str | None


class WorkingDays(_Frozen):
    """The office's own table of working days: whole years beyond chinesecalendar's data, and exceptions."""

    declared_years: tuple[int, ...] = ()
    days_off: tuple[dt.date, ...] = ()
    days_on: tuple[dt.date, ...] = ()

    @model_validator(mode="after")
    def _check_days(self) -> WorkingDays:
        both = set(self.days_off) & set(self.days_on)
        if both:
            raise ValueError(f"days both off and on: {sorted(both)}")
        return self


class Calendar(_Frozen):
    timezone: str
    first_month: str
    deadline_day: int = Field(ge=1, le=28)
    reminder_day: int = Field(ge=1, le=28)
    close_day: int = Field(ge=1, le=28)
    close_time: str
    working_days: WorkingDays = WorkingDays()


class Target(_Frozen):
    code: str
    name: str
    concepts: tuple[str, ...]
    year: int
    kind: Literal["at_least", "at_least_baseline"]
    target: float | None = None
    measure_unit: str | None = None
    baseline_2019: dict[str, float] = Field(default_factory=dict)


class LaborSpec(_Frozen):
    sender_unit: str
    columns: dict[str, tuple[str, ...]]
    insured_values: tuple[str, ...]
    lapsed_values: tuple[str, ...]
    max_invalid_ratio: float = Field(ge=0, le=1)


class MailSpec(_Frozen):
    office: tuple[str, ...]
    leaders: tuple[str, ...] = ()
    operators: tuple[str, ...]
    district_labor_domain: str


class County(_Frozen):
    province: str
    city: str
    county: str
