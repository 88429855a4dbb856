"""The month's checks: completeness and timeliness, target progress, HR records against the units, Attachment 1."""

from __future__ import annotations

import numpy as np
import pandas as pd

from config import Config

IN_BEIJING = "poor_employed_in_beijing"


def reporting_status(cfg: Config, submissions: pd.DataFrame) -> pd.DataFrame:
    """One row per expected unit: received, on time, version counted, rejected attempts and warnings."""
    rows = []
    for u in cfg.units:
        mine = submissions[submissions["unit_code"] == u.code]
        current = mine[(mine["status"] == "accepted") & mine["is_current"].astype(bool)]
        first = mine[mine["status"] == "accepted"].head(1)
        cur = current.iloc[0] if len(current) else None
        rows.append(
            {
                "form_code": u.form_code,
                "unit_code": u.code,
                "unit_name": u.name,
                "reported": cur is not None,
                "on_time": bool(cur is not None and not bool(first.iloc[0]["is_late"])),
                "first_received": first.iloc[0]["received_at"] if len(first) else None,
                "received_at": cur["received_at"] if cur is not None else None,
                "version": int(cur["version"]) if cur is not None else None,
                "late_version": bool(cur["is_late"]) if cur is not None else None,
                "rejected": int((mine["status"] == "rejected").sum()),
                "warnings": int(cur["n_warnings"]) if cur is not None else 0,
                "submission_id": int(cur["submission_id"]) if cur is not None else None,
            }
        )
    return pd.DataFrame(rows)


def reporting_rates(status: pd.DataFrame) -> pd.DataFrame:
    """DHIS2-style rates per form and overall: reports received and received on time over reports expected."""
    groups = [(code, g) for code, g in status.groupby("form_code", sort=False)] + [("全部", status)]
    return pd.DataFrame(
        [
            {
                "scope": code,
                "expected": len(g),
                "reported": int(g["reported"].sum()),
                "on_time": int(g["on_time"].sum()),
                "reporting_rate": g["reported"].mean() if len(g) else np.nan,
                "on_time_rate": g["on_time"].mean() if len(g) else np.nan,
            }
            for code, g in groups
        ]
    )


def city_total(cfg: Config, current: pd.DataFrame, concept: str) -> tuple[float, list[str]]:
    """A concept's city-wide 合计 over every form that reports it, and which form rows went into it."""
    inds = cfg.concepts.get(concept, ())
    used, total = [], np.nan
    for ind in inds:
        part = current[
            (current["form_code"] == ind.form_code)
            & (current["row_no"] == ind.row_no)
            & (current["region"] == cfg.total_column)
        ]["value"]
        if part.notna().any():
            total = np.nansum([total, part.sum()])
        used.append(f"{ind.form_code}序号{ind.row_no}")
    return total, used


def target_progress(cfg: Config, current: pd.DataFrame, month: str) -> pd.DataFrame:
    """Progress against the notice's targets for the month's year; a missing 2019 baseline is said, not guessed."""
    year = int(month[:4])
    rows = []
    for t in cfg.targets:
        if t.year != year:
            continue
        for concept in t.concepts:
            value, used = city_total(cfg, current, concept)
            name = cfg.concepts[concept][0].indicator if concept in cfg.concepts else concept
            goal = t.target if t.kind == "at_least" else t.baseline_2019.get(concept)
            rows.append(
                {
                    "target": t.name,
                    "indicator": name,
                    "sources": "+".join(used),
                    "value": value,
                    "goal": goal,
                    "progress": value / goal if goal and not np.isnan(value) else np.nan,
                    "note": "" if goal is not None else "2019年基数未配置(config/targets.yaml) / 2019 baseline not set",
                }
            )
    return pd.DataFrame(rows, columns=["target", "indicator", "sources", "value", "goal", "progress", "note"])


def reconcile_labor(cfg: Config, current: pd.DataFrame, labor: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """HR-recorded persons (by origin) per region beside the units' 帮扶贫困人口来京就业数, with the gap."""
    inds = [i for i in cfg.concepts.get(IN_BEIJING, ()) if cfg.form(i.form_code).by_region]
    labels = [f"{i.form_code}序号{i.row_no} {i.indicator}" for i in inds]
    regions = [cfg.province_region(p) for p in labor["province"]]
    hr = labor.groupby(regions)["persons"].sum() if len(labor) else pd.Series(dtype="float64")
    rows = []
    for region in cfg.region_names + (cfg.total_column,):
        hr_value = float(hr.sum()) if region == cfg.total_column else float(hr.get(region, 0))
        reported = []
        for ind in inds:
            part = current[
                (current["form_code"] == ind.form_code)
                & (current["row_no"] == ind.row_no)
                & (current["region"] == region)
            ]["value"]
            reported.append(part.sum(min_count=1))
        unit_total = float(np.nansum(reported)) if any(not np.isnan(v) for v in reported) else np.nan
        gap = unit_total - hr_value if len(labor) and not np.isnan(unit_total) else np.nan
        rows.append(
            [
                region,
                hr_value if len(labor) else np.nan,
                *reported,
                unit_total,
                gap,
                gap / hr_value if hr_value and not np.isnan(gap) else np.nan,
            ]
        )
    return pd.DataFrame(rows, columns=["region", "hr", *labels, "units", "gap", "gap_ratio"]), labels


def annex_by_district(cfg: Config, by_district: pd.DataFrame) -> pd.DataFrame:
    """Attachment 1 表1: central and western origins employed in Beijing, by district, largest first."""
    counts = by_district.set_index("district")["persons"]
    df = pd.DataFrame({"district": [d.name for d in cfg.districts]})
    df["persons"] = [int(counts.get(d, 0)) for d in df["district"]]
    return df.sort_values("persons", ascending=False, kind="stable").reset_index(drop=True)


def annex_by_county(cfg: Config, by_origin: pd.DataFrame) -> pd.DataFrame:
    """Attachment 1 表2: persons by paired county of origin, in the notice's order."""
    counts = by_origin.set_index(["province", "city", "county"])["persons"]
    return pd.DataFrame(
        [
            {
                "province": c.province,
                "city": c.city,
                "county": c.county,
                "persons": int(counts.get((c.province, c.city, c.county), 0)),
            }
            for c in cfg.paired_counties
        ]
    )
