"""Validate labor rows against the contract: split valid from invalid, report repeated numbers once."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from config import Config, normalize_text
from contracts.labor import labor_schema, located_failures
from tasks.labor_ids import mask_ids

FAILURE_COLUMNS = ["source_row", "column_name", "rule", "value_masked", "message_zh", "message_en"]


@dataclass(frozen=True)
class LaborCheck:
    """The rows that passed (one per person), the failed cells, and the repeated numbers (warnings)."""

    valid: pd.DataFrame
    failures: pd.DataFrame
    duplicates: pd.DataFrame
    n_rows: int

    @property
    def n_invalid_rows(self) -> int:
        return int(self.failures["source_row"].nunique())

    @property
    def invalid_ratio(self) -> float:
        return self.n_invalid_rows / self.n_rows if self.n_rows else 0.0


def canonical_districts(values: pd.Series, cfg: Config) -> pd.Series:
    """朝阳 / 朝阳区 / 北京市朝阳区 -> 朝阳区; anything else is kept as written so the report can show it."""
    lookup = {}
    for text in values.unique():
        unit = cfg.resolve_unit(text)
        lookup[text] = unit.name if unit is not None and unit.kind == "district" else text
    return values.map(lookup)


@task(name="validate-labor-rows", cache_policy=NO_CACHE)
def validate_labor(frame: pd.DataFrame, cfg: Config) -> LaborCheck:
    """Run the contract lazily; keep the valid rows, the first (insured first) of each repeated number."""
    frame = frame.copy()
    frame["work_district"] = canonical_districts(frame["work_district"], cfg)
    statuses = frame["insurance_status"]
    frame["insurance_status"] = statuses.map({s: normalize_text(s) for s in statuses.unique()})
    frame["id_number"] = frame["id_number"].str.upper()
    try:
        labor_schema(cfg).validate(frame, lazy=True)
        failures = pd.DataFrame(columns=["index", *FAILURE_COLUMNS])
    except pa.errors.SchemaErrors as errors:
        failures = located_failures(errors, frame, cfg)
    valid = frame.drop(index=failures["index"].unique())
    valid = valid.assign(is_insured=valid["insurance_status"].isin(cfg.labor.insured_values))
    # Insured rows first, then file order: a repeated number keeps its insured row if it has one.
    order = np.lexsort((valid["source_row"].to_numpy(), ~valid["is_insured"].to_numpy(dtype=bool)))
    repeated = pd.Series(valid["id_number"].to_numpy()[order]).duplicated(keep="first").to_numpy()
    dup_rows = valid.iloc[np.sort(order[repeated])]
    dups = dup_rows[["source_row"]].assign(value_masked=mask_ids(dup_rows["id_number"]))
    kept = valid.iloc[np.sort(order[~repeated])].reset_index(drop=True)
    return LaborCheck(valid=kept, failures=failures[FAILURE_COLUMNS].reset_index(drop=True),
                      duplicates=dups.sort_values("source_row").reset_index(drop=True), n_rows=len(frame))
