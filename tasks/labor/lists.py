"""Each district's own list of its laborers, plus a 稳岗 warning sheet of people it kept last month but not this one."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, and_, select, true

from config import Config
from core.month import month_key, previous_month
from tasks.intake.archive import new_temp, sha256_of
from tasks.labor.errors import redacted
from tasks.xlsx.table import Sheet, write_table_workbook
from warehouse.schema import dim_district, dim_origin
from warehouse.schema import fct_submission as sub
from warehouse.schema import restricted_labor_person as rlp

PEOPLE_SHEET = "人员名单"
WARNING_SHEET = "稳岗预警"
PEOPLE_HEADERS = {
    "name": "姓名",
    "id_masked": "公民身份号码(脱敏)",
    "province": "户籍省",
    "city": "户籍市",
    "county": "户籍县",
    "employer": "用工单位",
    "insurance_status": "参保状态",
}
GONE = "本月不在本区名单 / not on this month's list"
MANIFEST = ".lists.json"
FORMAT = 1  # bump when the lists' layout changes, so unchanged data is written again in the new layout


@dataclass(frozen=True)
class DistrictLists:
    """The district lists of a month, and whether this call wrote them (False: they were already up to date)."""

    paths: list[Path]
    written: bool


def _current_submission(conn: Connection, month: str) -> int | None:
    return conn.execute(
        select(sub.c.submission_id).where(
            sub.c.kind == "labor", sub.c.is_current == true(), sub.c.month_key == month_key(month)
        )
    ).scalar_one_or_none()


def lists_source(engine: Engine, cfg: Config, month: str) -> str:
    """What a month's lists are made of: its and the previous month's current labor submissions, and the layout."""
    with engine.connect() as conn:
        sids = [_current_submission(conn, month), _current_submission(conn, previous_month(month))]
    made_of = {"format": FORMAT, "month": month, "submissions": sids, "districts": [u.name for u in cfg.districts]}
    return hashlib.sha256(json.dumps(made_of, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _up_to_date(out_dir: Path, source: str, paths: list[Path]) -> bool:
    """True when the manifest names this source and every list is there with the content it recorded."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = manifest.get("files", {})
    return manifest.get("source") == source and all(
        p.is_file() and files.get(p.name) == sha256_of(p.read_bytes()) for p in paths
    )


def _write_manifest(out_dir: Path, source: str, paths: list[Path]) -> None:
    """Written last and atomically: a run killed mid-way leaves a manifest that no longer matches; lists are redone."""
    body = json.dumps(
        {"source": source, "files": {p.name: sha256_of(p.read_bytes()) for p in paths}}, ensure_ascii=False, indent=1
    ).encode()
    fd, tmp = new_temp(out_dir)
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    os.replace(tmp, out_dir / MANIFEST)


def people_of_month(engine: Engine, month: str) -> pd.DataFrame:
    """Restricted person rows of the month's current labor file, with district and origin names."""
    query = (
        select(
            rlp.c.person_key,
            dim_district.c.district,
            rlp.c.name,
            rlp.c.id_masked,
            dim_origin.c.province,
            dim_origin.c.city,
            dim_origin.c.county,
            rlp.c.employer,
            rlp.c.insurance_status,
            rlp.c.source_row,
        )
        .join(sub, and_(sub.c.submission_id == rlp.c.submission_id, sub.c.kind == "labor", sub.c.is_current == true()))
        .join(dim_district, dim_district.c.district_key == rlp.c.district_key)
        .join(dim_origin, dim_origin.c.origin_key == rlp.c.origin_key)
        .where(sub.c.month_key == month_key(month))
    )
    with engine.connect() as conn:
        columns = list(zip(*conn.execute(query).tuples().all(), strict=False)) or [()] * (len(PEOPLE_HEADERS) + 3)
    # Column by column: a frame built from 350k Row objects spends seconds inferring their types.
    names = ["person_key", "district", *PEOPLE_HEADERS, "source_row"]
    return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip(names, columns, strict=False)})


def retention_warnings(now: pd.DataFrame, before: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """People insured in a district last month who, this month, are lapsed there or no longer on its list."""
    insured = set(cfg.labor.insured_values)
    was = before.loc[before["insurance_status"].isin(insured)]
    here = now.set_index(["person_key", "district"])["insurance_status"]
    status = here.reindex(pd.MultiIndex.from_frame(was[["person_key", "district"]])).to_numpy()
    out = was.assign(this_month=status)
    out = out.loc[out["this_month"].isna() | ~out["this_month"].isin(insured)]
    return out.assign(this_month=out["this_month"].fillna(GONE))


def list_path(out_dir: Path, month: str, district: str) -> Path:
    return out_dir / f"{month}_{district}_建档立卡贫困劳动力.xlsx"


def write_district_lists(engine: Engine, cfg: Config, month: str, out_dir: Path) -> DistrictLists:
    """One workbook per district under out_dir: its people, and its 稳岗 warnings against the previous month; nothing
    is written when the lists on disk were made from the same submissions and are intact."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [list_path(out_dir, month, unit.name) for unit in cfg.districts]
    source = lists_source(engine, cfg, month)
    if _up_to_date(out_dir, source, paths):
        return DistrictLists(paths, written=False)
    with redacted("district lists"):
        now = people_of_month(engine, month)
        warnings = retention_warnings(now, people_of_month(engine, previous_month(month)), cfg)
        warning_headers = {**PEOPLE_HEADERS, "this_month": f"{month} 情况"}
        for unit, path in zip(cfg.districts, paths, strict=False):
            write_table_workbook(
                path,
                [
                    Sheet(
                        PEOPLE_SHEET, PEOPLE_HEADERS, now.loc[now["district"] == unit.name].sort_values("source_row")
                    ),
                    Sheet(WARNING_SHEET, warning_headers, warnings.loc[warnings["district"] == unit.name]),
                ],
            )
        _write_manifest(out_dir, source, paths)
    return DistrictLists(paths, written=True)
