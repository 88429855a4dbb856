"""Each district's own list of its laborers, plus a 稳岗 warning sheet of people it kept last month but not this one."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, select, true

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
LOCK = ".lists.lock"
FORMAT = 2  # bump when the lists' layout changes, so unchanged data is written again in the new layout


@dataclass(frozen=True)
class DistrictLists:
    """The district lists of a month, and whether this call wrote any (False: they were already up to date)."""

    paths: list[Path]
    written: bool
    districts_written: tuple[str, ...] = ()


def _current_submission(conn: Connection, month: str) -> int | None:
    return conn.execute(
        select(sub.c.submission_id).where(
            sub.c.kind == "labor", sub.c.is_current == true(), sub.c.month_key == month_key(month)
        )
    ).scalar_one_or_none()


def month_submissions(engine: Engine, month: str) -> tuple[int | None, int | None]:
    """The current labor submission of `month` and of the month before (None where there is none)."""
    with engine.connect() as conn:
        return _current_submission(conn, month), _current_submission(conn, previous_month(month))


def list_source(month: str, district: str, sids: tuple[int | None, int | None]) -> str:
    """What a district's list is made of: the month's and the previous month's current submissions, the layout."""
    made_of = {"format": FORMAT, "month": month, "district": district, "submissions": list(sids)}
    return hashlib.sha256(json.dumps(made_of, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _manifest(out_dir: Path) -> dict[str, dict[str, str]]:
    """District -> {source, sha256} of the list written for it; empty when missing or unreadable."""
    try:
        found = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("districts", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return found if isinstance(found, dict) else {}


def _up_to_date(entry: dict[str, str] | None, source: str, path: Path) -> bool:
    """True when the manifest's entry names this source and the list is there with the content it recorded."""
    if not entry or entry.get("source") != source or not path.is_file():
        return False
    return entry.get("sha256") == sha256_of(path.read_bytes())


def _write_manifest(out_dir: Path, districts: dict[str, dict[str, str]]) -> None:
    """Written atomically, under the lists' lock: a run killed mid-way leaves an entry that no longer matches."""
    body = json.dumps({"districts": districts}, ensure_ascii=False, indent=1, sort_keys=True).encode()
    fd, tmp = new_temp(out_dir)
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    os.replace(tmp, out_dir / MANIFEST)


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """One writer of a month's lists at a time (the close, the command and the web's downloads may meet here)."""
    fd = os.open(out_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def people_of(conn: Connection, sid: int | None, district_key: int) -> pd.DataFrame:
    """One submission's restricted person rows in one district (one range of the primary key), with origin names."""
    query = (
        select(
            rlp.c.person_key,
            rlp.c.name,
            rlp.c.id_masked,
            dim_origin.c.province,
            dim_origin.c.city,
            dim_origin.c.county,
            rlp.c.employer,
            rlp.c.insurance_status,
            rlp.c.source_row,
        )
        .join(dim_origin, dim_origin.c.origin_key == rlp.c.origin_key)
        .where(rlp.c.submission_id == (sid if sid is not None else -1), rlp.c.district_key == district_key)
    )
    columns = list(zip(*conn.execute(query).tuples().all(), strict=False)) or [()] * (len(PEOPLE_HEADERS) + 2)
    # Column by column: a frame built from many Row objects spends seconds inferring their types.
    names = ["person_key", *PEOPLE_HEADERS, "source_row"]
    return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip(names, columns, strict=False)})


def retention_warnings(now: pd.DataFrame, before: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """People insured in the district last month who, this month, are lapsed there or no longer on its list."""
    insured = set(cfg.labor.insured_values)
    was = before.loc[before["insurance_status"].isin(insured)]
    here = now.set_index("person_key")["insurance_status"]
    status = here.reindex(pd.Index(was["person_key"])).to_numpy()
    out = was.assign(this_month=status)
    out = out.loc[out["this_month"].isna() | ~out["this_month"].isin(insured)]
    return out.assign(this_month=out["this_month"].fillna(GONE))


def list_path(out_dir: Path, month: str, district: str) -> Path:
    return out_dir / f"{month}_{district}_建档立卡贫困劳动力.xlsx"


def _write_one(
    engine: Engine, month: str, district: str, sids: tuple[int | None, int | None], path: Path, cfg: Config
) -> None:
    with engine.connect() as conn:
        dk = conn.execute(select(dim_district.c.district_key).where(dim_district.c.district == district)).scalar_one()
        now = people_of(conn, sids[0], dk)
        before = people_of(conn, sids[1], dk)
    warnings = retention_warnings(now, before, cfg)
    warning_headers = {**PEOPLE_HEADERS, "this_month": f"{month} 情况"}
    write_table_workbook(
        path,
        [
            Sheet(PEOPLE_SHEET, PEOPLE_HEADERS, now.sort_values("source_row")),
            Sheet(WARNING_SHEET, warning_headers, warnings.sort_values("source_row")),
        ],
    )


def write_district_lists(
    engine: Engine, cfg: Config, month: str, out_dir: Path, district: str | None = None
) -> DistrictLists:
    """One workbook per district (or only `district`'s) under out_dir: its people, and its 稳岗 warnings against the
    previous month; a list made from the same submissions and intact on disk is not written again."""
    names = [u.name for u in cfg.districts] if district is None else [district]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [list_path(out_dir, month, name) for name in names]
    sids = month_submissions(engine, month)
    written: list[str] = []
    with _locked(out_dir), redacted("district lists"):
        entries = _manifest(out_dir)
        for name, path in zip(names, paths, strict=True):
            source = list_source(month, name, sids)
            if _up_to_date(entries.get(name), source, path):
                continue
            _write_one(engine, month, name, sids, path, cfg)
            entries[name] = {"source": source, "sha256": sha256_of(path.read_bytes())}
            written.append(name)
            _write_manifest(out_dir, entries)
    return DistrictLists(paths, written=bool(written), districts_written=tuple(written))
