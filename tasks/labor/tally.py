"""A labor file's check, batch by batch and for the whole file: what validate_labor returns and the loader sums.

Apart from the contract itself, so that the loader (and a command whose batches a child process checked) does not
import pandera."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FAILURE_COLUMNS = ["source_row", "column_name", "rule", "value_masked", "message_zh", "message_en"]


@dataclass(frozen=True)
class LaborCheck:
    """The rows that passed (one per person), the failed cells, and the repeated numbers (warnings)."""

    valid: pd.DataFrame
    failures: pd.DataFrame
    duplicates: pd.DataFrame
    n_rows: int
    person_keys: np.ndarray | None = None  # each valid row's HMAC key, when made ahead (keyed); else made at load

    @property
    def n_invalid_rows(self) -> int:
        return int(self.failures["source_row"].nunique())

    @property
    def invalid_ratio(self) -> float:
        return self.n_invalid_rows / self.n_rows if self.n_rows else 0.0


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
