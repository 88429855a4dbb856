"""Validate labor rows against the contract: split valid from invalid, report repeated numbers once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pandera.pandas as pa

from config import Config, normalize_text
from contracts.identity import mask_ids, normalize_ids
from contracts.labor import labor_schema, located_failures
from tasks.labor.errors import redacted
from tasks.labor.grain import hmac_keys, id_matrix
from tasks.labor.tally import FAILURE_COLUMNS, LaborCheck


def translate(values: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """fn applied once per distinct value (a file has ~20 districts, 2 statuses), then spread by position."""
    codes, uniques = pd.factorize(values)
    # pandas-stubs accepts only literal dtypes per element kind, not a Series' own dtype object, which pandas takes.
    mapped = pd.array([fn(u) for u in uniques], dtype=values.dtype)  # type: ignore[arg-type,misc]
    return pd.Series(mapped.take(codes, allow_fill=True), index=values.index, name=values.name)


def canonical_district(text: str, cfg: Config) -> str:
    """朝阳 / 朝阳区 / 北京市朝阳区 -> 朝阳区; anything else is kept as written so the report can show it."""
    unit = cfg.resolve_unit(text)
    return unit.name if unit is not None and unit.kind == "district" else text


def validate_labor(frame: pd.DataFrame, cfg: Config) -> LaborCheck:
    """Run the contract lazily; keep the valid rows, the first (insured first) of each repeated number. Any error
    but a row's own failure is re-raised redacted (pandera's messages quote the failing values)."""
    with redacted("validate"):
        return _validate(frame, cfg)


def keyed(check: LaborCheck, key: bytes, cfg: Config) -> LaborCheck:
    """The check with each valid row's HMAC key (bytes, as contracts.identity.person_keys makes them), its valid rows
    in the person table's key order (district as config/ lists them, then key), which the loader then keeps."""
    keys = hmac_keys(id_matrix(check.valid["id_number"]), key)
    rank = pd.Categorical(check.valid["work_district"], categories=[u.name for u in cfg.districts]).codes
    order = np.lexsort((keys.astype("S32"), rank))
    return replace(check, valid=check.valid.take(order).reset_index(drop=True), person_keys=keys[order])


def _validate(frame: pd.DataFrame, cfg: Config) -> LaborCheck:
    frame = frame.assign(
        work_district=translate(frame["work_district"], lambda text: canonical_district(text, cfg)),
        insurance_status=translate(frame["insurance_status"], normalize_text),
        id_number=normalize_ids(frame["id_number"]),
    )
    try:
        labor_schema(cfg).validate(frame, lazy=True)
        failures = pd.DataFrame(columns=["index", *FAILURE_COLUMNS])
    except pa.errors.SchemaErrors as errors:
        failures = located_failures(errors, frame, cfg)
    ok = np.ones(len(frame), dtype=bool)
    ok[frame.index.get_indexer(pd.Index(failures["index"].unique()))] = False
    insured = frame["insurance_status"].isin(cfg.labor.insured_values).to_numpy(dtype=bool)
    # Insured rows first, then file order: a repeated number keeps its insured row if it has one.
    candidates = np.flatnonzero(ok)
    order = candidates[np.lexsort((frame["source_row"].to_numpy()[candidates], ~insured[candidates]))]
    codes, _ = pd.factorize(frame["id_number"])
    repeated = pd.Series(codes[order]).duplicated(keep="first").to_numpy()
    dup_rows = frame.take(np.sort(order[repeated]))
    dups = dup_rows[["source_row"]].assign(value_masked=mask_ids(dup_rows["id_number"]))
    keep = np.sort(order[~repeated])
    # One row per number by construction (the first of each code in `order`), so LaborPerson, the grain the loader
    # relies on, holds here without hashing every number again; tests/contracts/test_labor.py checks it does.
    kept = frame.take(keep).assign(is_insured=insured[keep]).reset_index(drop=True)
    return LaborCheck(
        valid=kept,
        failures=failures[FAILURE_COLUMNS].reset_index(drop=True),
        duplicates=dups.sort_values("source_row").reset_index(drop=True),
        n_rows=len(frame),
    )
