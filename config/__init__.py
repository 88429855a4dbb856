"""The office's one declaration: load config/*.yaml into a typed, frozen Config."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from config.model import (
    Calendar,
    County,
    Form,
    Indicator,
    LaborSpec,
    MailSpec,
    ReportRegion,
    Target,
    Unit,
    UnitKind,
    normalize_text,
)
from core.clock import office_date
from core.month import Month

CONFIG_DIR = Path(__file__).resolve().parent

__all__ = ["CONFIG_DIR", "Config", "County", "Form", "Indicator", "Unit", "load_config", "normalize_text"]


def _read(directory: Path, name: str) -> dict:
    with open(directory / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# Each kind of unit and its list in units.yaml; the form it sends is the one whose unit_kind (forms.yaml) it is.
_UNIT_LISTS: tuple[tuple[UnitKind, str], ...] = (
    ("district", "districts"),
    ("bureau", "bureaus"),
    ("front_post", "front_posts"),
)


def _units(raw: dict, forms: tuple[Form, ...]) -> tuple[Unit, ...]:
    """The units of units.yaml, each on the form whose unit_kind (forms.yaml) is its kind."""
    domain = raw["email_domain"]
    form_of = {f.unit_kind: f.code for f in forms}
    units: list[Unit] = []
    for kind, key in _UNIT_LISTS:
        for item in raw[key]:
            name = item["name"]
            aliases = list(item.get("aliases", []))
            if kind == "district":
                short = name.removesuffix("区")
                aliases = [short, f"北京市{name}", *aliases]
            units.append(
                Unit(
                    code=item["code"],
                    name=name,
                    official_name=item.get("official_name", f"北京市{name}"),
                    kind=kind,
                    form_code=form_of[kind],
                    email=item.get("email", f"{item['code']}@{domain}"),
                    region=item.get("region"),
                    aliases=tuple(dict.fromkeys(aliases)),
                    sort_order=len(units) + 1,
                )
            )
    return tuple(units)


@dataclass(frozen=True)
class Config:
    """Everything the pipeline knows about forms, units, places and time, loaded once at the edge."""

    report_title: str
    template_version: str
    forms: tuple[Form, ...]
    units: tuple[Unit, ...]
    total_column: str
    report_regions: tuple[ReportRegion, ...]
    central_western_provinces: tuple[str, ...]
    paired_counties: tuple[County, ...]
    reference: dict
    calendar: Calendar
    targets: tuple[Target, ...]
    labor: LaborSpec
    mail: MailSpec
    directory: Path = field(default=CONFIG_DIR)

    # -- forms and indicators -------------------------------------------------------------
    def form(self, code: str) -> Form:
        for f in self.forms:
            if f.code == code:
                return f
        raise KeyError(f"unknown form {code!r}")

    @cached_property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(r for f in self.forms for r in f.rows)

    def columns(self, form: Form | str) -> tuple[str, ...]:
        """The value columns of a form: 合计 and the regions, or 合计 alone (表3, which adds 备注)."""
        form = self.form(form) if isinstance(form, str) else form
        return (self.total_column, *self.region_names) if form.by_region else (self.total_column,)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.report_regions)

    @cached_property
    def concepts(self) -> dict[str, tuple[Indicator, ...]]:
        out: dict[str, list[Indicator]] = {}
        for ind in self.indicators:
            if ind.concept:
                out.setdefault(ind.concept, []).append(ind)
        return {k: tuple(v) for k, v in out.items()}

    # -- units --------------------------------------------------------------------------------
    def unit(self, code: str) -> Unit:
        for u in self.units:
            if u.code == code:
                return u
        raise KeyError(f"unknown unit {code!r}")

    @cached_property
    def _alias_index(self) -> dict[str, Unit]:
        index: dict[str, Unit] = {}
        for u in self.units:
            for text in (u.code, u.name, u.official_name, *u.aliases):
                index[normalize_text(text)] = u
        return index

    def resolve_unit(self, text: str) -> Unit | None:
        """The unit a clerk meant by a name, alias or code; None if nobody is called that."""
        return self._alias_index.get(normalize_text(text)) if text else None

    @property
    def districts(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.kind == "district")

    def units_of_form(self, form_code: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.form_code == form_code)

    # -- calendar -------------------------------------------------------------------------------
    def deadline(self, month: str) -> dt.date:
        """The last day a month's report is on time: the deadline day of the following month."""
        after = Month(month).shift(1)
        return dt.date(after.year, after.mon, self.calendar.deadline_day)

    def action_day(self, month: str, day: int) -> dt.date:
        """When an action set for `day` of the month after reporting month `month` happens (reminders, the close):
        that day, or the working day before it when it is a holiday or weekend (CalendarGap for an unknown year)."""
        from config.workdays import working_day_on_or_before

        after = Month(month).shift(1)
        return working_day_on_or_before(self.calendar, dt.date(after.year, after.mon, day))

    def is_late(self, month: str, received_at: dt.datetime) -> bool:
        """Received after the month's deadline, judged by the date in the office's time zone."""
        return office_date(received_at, self.calendar.timezone) > self.deadline(month)

    def province_region(self, province: str) -> str:
        """The report column (region) an origin province falls in."""
        for r in self.report_regions:
            if r.province == province:
                return r.name
        return self.report_regions[-1].name


def load_config(directory: Path | str | None = None) -> Config:
    """Read and validate the YAML declaration in `directory` (default: this package)."""
    d = Path(directory) if directory else CONFIG_DIR
    forms_raw = _read(d, "forms.yaml")
    forms = tuple(
        Form(**{**f, "rows": tuple(Indicator(form_code=f["code"], **r) for r in f["rows"])}) for f in forms_raw["forms"]
    )
    regions = _read(d, "regions.yaml")
    counties = tuple(
        County(province=p, city=c, county=k)
        for p, cities in regions["paired_counties"].items()
        for c, ks in cities.items()
        for k in ks
    )
    targets = _read(d, "targets.yaml")["targets"]
    return Config(
        report_title=forms_raw["report_title"],
        template_version=str(forms_raw["template_version"]),
        forms=forms,
        units=_units(_read(d, "units.yaml"), forms),
        total_column=regions["total_column"],
        report_regions=tuple(ReportRegion(**r) for r in regions["report_regions"]),
        central_western_provinces=tuple(regions["central_western_provinces"]),
        paired_counties=counties,
        reference=_read(d, "reference.yaml"),
        calendar=Calendar(**_read(d, "calendar.yaml")),
        targets=tuple(Target(**{**t, "baseline_2019": t.get("baseline_2019") or {}}) for t in targets),
        labor=LaborSpec(**_read(d, "labor.yaml")),
        mail=MailSpec(**_read(d, "mail.yaml")),
        directory=d,
    )
