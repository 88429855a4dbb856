"""What the one-page brief (简报) shows, derived from the publication's content and the warehouse's city-wide views."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import cast

import pandas as pd
from sqlalchemy import Engine, column, select, table

from config import Config
from tasks.publish.content import PublicationContent

TOP_INCREMENTS = 5
KIND_LABELS = {"district": "各区", "bureau": "委办局", "front_post": "前方指挥部"}
NO_BASELINE = "2019年基数待录入"
v_concept_month = table("v_concept_month", *(column(c) for c in ("month", "concept", "form_code", "value")))


@dataclass(frozen=True)
class TargetLine:
    """One key figure against its target: the year-to-date city-wide value and its goal (None: baseline missing)."""

    target: str
    indicator: str
    measure_unit: str
    value: float
    goal: float | None
    progress: float | None


@dataclass(frozen=True)
class KindProgress:
    """Reporting progress of one kind of unit."""

    label: str
    expected: int
    on_time: int
    late: int
    missing: int


@dataclass(frozen=True)
class Increment:
    """An indicator's city-wide increment this month and its growth over last month's year-to-date figure."""

    label: str
    measure_unit: str
    value: float
    increment: float
    growth: float


@dataclass(frozen=True)
class Trend:
    """A target's city-wide year-to-date figure month by month, and the goal for the year."""

    name: str
    measure_unit: str
    months: tuple[str, ...]
    values: tuple[float, ...]
    goal: float


@dataclass(frozen=True)
class BriefFigures:
    """Everything on the brief, as plain values: rendering needs no database and no config."""

    month: str
    version: int
    as_of: dt.datetime
    expected: int
    reported: int
    on_time: int
    missing_units: tuple[str, ...]
    by_kind: tuple[KindProgress, ...]
    targets: tuple[TargetLine, ...]
    increments: tuple[Increment, ...]
    trend: Trend | None

    @property
    def year_share(self) -> float:
        """How much of the year has passed at the end of the month (the pace a year's target should keep)."""
        return int(self.month[5:7]) / 12


def target_lines(cfg: Config, content: PublicationContent) -> tuple[TargetLine, ...]:
    """The publication's target table with each indicator's measure unit (a target's own unit when it has one)."""
    units = {i.indicator: i.measure_unit for inds in cfg.concepts.values() for i in inds}
    own = {t.name: str(t.measure_unit) for t in cfg.targets if t.measure_unit}
    out = []
    for row in content.targets.to_dict("records"):
        goal = None if row["goal"] is None or pd.isna(row["goal"]) else float(row["goal"])
        progress = None if pd.isna(row["progress"]) else float(row["progress"])
        unit = own.get(str(row["target"])) or units.get(str(row["indicator"])) or ""
        out.append(TargetLine(str(row["target"]), str(row["indicator"]), unit, float(row["value"]), goal, progress))
    return tuple(out)


def kind_progress(cfg: Config, status: pd.DataFrame) -> tuple[KindProgress, ...]:
    """Expected, on time, late and missing units per kind (districts, bureaus, front posts)."""
    kinds = pd.Series([cfg.unit(code).kind for code in status["unit_code"]], index=status.index)
    out = []
    for kind, label in KIND_LABELS.items():
        mine = status.loc[kinds == kind]
        on_time = int(mine["on_time"].sum())
        reported = int(mine["reported"].sum())
        out.append(KindProgress(label, len(mine), on_time, reported - on_time, len(mine) - reported))
    return tuple(out)


def largest_increments(cfg: Config, current: pd.DataFrame, n: int = TOP_INCREMENTS) -> tuple[Increment, ...]:
    """The indicators whose city-wide total grew most this month, relative to last month's year-to-date figure.

    Measured in growth, not in amount: 亿元 and 人次 do not compare. An indicator's increment counts only when every
    unit that reported it has one (as in v_concept_month); rates have none."""
    total = current.loc[current["region"] == cfg.total_column]
    rows = []
    for key, g in total.groupby(["form_code", "row_no"], sort=True):
        form_code, row_no = cast(tuple[str, int], key)
        values = g["value"].dropna()
        if values.empty or g["value_month"].count() != len(values):
            continue
        value, increment = float(values.sum()), float(g["value_month"].sum())
        before = value - increment
        if increment > 0 and before > 0:
            ind = cfg.form(str(form_code)).row(int(row_no))
            label = f"{form_code}·{row_no} {ind.indicator}"
            rows.append(Increment(label, ind.measure_unit, value, increment, increment / before))
    rows.sort(key=lambda r: -r.growth)
    return tuple(rows[:n])


def target_trend(engine: Engine, cfg: Config, month: str) -> Trend | None:
    """The first numeric target's concept, city-wide (v_concept_month 合计), from January to `month`."""
    target = next((t for t in cfg.targets if t.kind == "at_least" and t.target and t.year == int(month[:4])), None)
    if target is None:
        return None
    v = v_concept_month
    query = (
        select(v.c.month, v.c.value)
        .where(v.c.concept == target.concepts[0], v.c.form_code == cfg.total_column)
        .where(v.c.month >= f"{month[:4]}-01", v.c.month <= month)
        .order_by(v.c.month)
    )
    with engine.connect() as conn:
        rows = [(m, float(x)) for m, x in conn.execute(query) if x is not None and not math.isnan(float(x))]
    assert target.target is not None
    return Trend(
        target.name,
        target.measure_unit or "",
        tuple(m for m, _ in rows),
        tuple(x for _, x in rows),
        float(target.target),
    )


def brief_figures(engine: Engine, cfg: Config, content: PublicationContent, version: int) -> BriefFigures:
    """The brief's figures for version `version` of the month's publication."""
    status = content.status
    return BriefFigures(
        month=content.month,
        version=version,
        as_of=content.as_of,
        expected=content.n_expected,
        reported=content.n_reported,
        on_time=int(status["on_time"].sum()),
        missing_units=tuple(status.loc[~status["reported"].astype(bool), "unit_name"]),
        by_kind=kind_progress(cfg, status),
        targets=target_lines(cfg, content),
        increments=largest_increments(cfg, content.current),
        trend=target_trend(engine, cfg, content.month),
    )
