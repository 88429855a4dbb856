"""Validate labor rows against the contract: split valid from invalid, report repeated numbers once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from config import Config, normalize_text
from contracts.identity import mask_ids, normalize_ids
from contracts.labor import labor_schema, located_failures
from tasks.labor.errors import redacted
from tasks.labor.read import empty_batch

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


def warm_up(cfg: Config) -> None:
    """Validate an empty batch: pandera's first validation registers its backends and imports its checks (0.07-0.15
    s), which the first real batch then does not wait for. Worth it while a child process still checks a workbook."""
    validate_labor(empty_batch(cfg), cfg)


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


KEPT_FAILURES = 1000  # the failed cells kept for issues and the artifact (as many as the loader writes as issues)


@dataclass
class Tally:
    """The whole file's check, summed batch by batch: counts, the first failed cells, every repeated number."""

    n_rows: int = 0
    n_invalid_rows: int = 0
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILURE_COLUMNS))
    duplicates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["source_row", "value_masked"]))

    @property
    def invalid_ratio(self) -> float:
        return self.n_invalid_rows / self.n_rows if self.n_rows else 0.0

    def add(self, check: LaborCheck) -> None:
        """A batch's counts, its first failed cells while there is room, and the numbers repeated inside it."""
        self.n_rows += check.n_rows
        self.n_invalid_rows += check.n_invalid_rows
        if len(self.failures) < KEPT_FAILURES and len(check.failures):
            self.failures = _concat(self.failures, check.failures.head(KEPT_FAILURES - len(self.failures)))
        self.add_duplicates(check.duplicates)

    def add_duplicates(self, found: pd.DataFrame) -> None:
        if len(found):
            self.duplicates = _concat(self.duplicates, found).sort_values("source_row", ignore_index=True)


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    return b.reset_index(drop=True) if a.empty else pd.concat([a, b], ignore_index=True)
