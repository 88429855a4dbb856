"""One row per identity number across a file's batches: the numbers kept so far, packed and sorted, in numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from contracts.identity import hmac_sha256

_ZEROS = 48 * int("1" * 17)  # "0" (48) at each of the 17 digits' powers of ten


def id_matrix(ids: pd.Series) -> np.ndarray:
    """Checked numbers (18 ASCII characters each) as an (n, 18) uint8 matrix, straight from their Arrow buffer."""
    arr = pa.array(ids, type=pa.large_string(), from_pandas=True)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if not len(arr):
        return np.empty((0, 18), dtype=np.uint8)
    start = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset]
    return np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start : start + 18 * len(arr)].reshape(-1, 18)


def hmac_keys(raw: np.ndarray, key: bytes) -> np.ndarray:
    """HMAC-SHA256 of each number (a row of id_matrix) under the PII key, as contracts.identity.person_keys makes
    them, without decoding the numbers to str and back."""
    digest = hmac_sha256(key)
    out = np.empty(len(raw), dtype=object)
    out[:] = [digest(number) for number in raw.view("S18").ravel().tolist()]
    return out


def pack_ids(raw: np.ndarray) -> np.ndarray:
    """A checked number (a row of id_matrix: 17 digits and a check character 0-9/X) as one int64, losslessly:
    digits x 11 + check."""
    # Digit by digit into one int64 per number: an (n, 17) int64 copy to multiply was 27 MB a batch of fresh pages
    # (0.02-0.1 s a file, against 0.01 s); the digits' "0"s (48 at every power of ten) come off once at the end.
    digits = np.zeros(len(raw), dtype=np.int64)
    for column in raw[:, :17].T:
        digits *= 10
        digits += column
    digits -= _ZEROS
    check = np.where(raw[:, 17] == ord("X"), 10, raw[:, 17].astype(np.int64) - 48)
    return digits * 11 + check


def unpack_ids(packed: np.ndarray) -> pd.Series:
    """The numbers pack_ids packed."""
    return pd.Series([f"{v // 11:017d}{'X' if v % 11 == 10 else v % 11}" for v in packed.tolist()], dtype=object)


@dataclass(frozen=True)
class Admitted:
    """A batch's verdict: which of its rows to load, and earlier rows they displace (lapsed, now seen insured)."""

    keep: np.ndarray  # bool per batch row
    displaced_rows: np.ndarray  # source_row of earlier rows to delete
    displaced_districts: np.ndarray  # their district_key
    displaced_ids: np.ndarray  # their packed numbers


class Kept:
    """The numbers kept so far, sorted, with each one's source row, district and insurance: 25 bytes a person.

    A batch arrives with one row per number already (validate_labor); against earlier batches the file-wide rule
    holds: a number keeps its first insured row if it has one, else its first row.
    """

    def __init__(self) -> None:
        self.ids = np.empty(0, dtype=np.int64)
        self.rows = np.empty(0, dtype=np.int64)
        self.districts = np.empty(0, dtype=np.int64)
        self.insured = np.empty(0, dtype=bool)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_insured(self) -> int:
        return int(self.insured.sum())

    def insured_by_district(self) -> dict[int, int]:
        """district_key -> insured people kept."""
        districts, counts = np.unique(self.districts[self.insured], return_counts=True)
        return dict(zip(districts.tolist(), counts.tolist(), strict=True))

    def admit(self, ids: np.ndarray, rows: np.ndarray, districts: np.ndarray, insured: np.ndarray) -> Admitted:
        """Decide a batch against the numbers kept so far, and remember its winners."""
        at = np.searchsorted(self.ids, ids)
        found = np.zeros(len(ids), dtype=bool)
        inside = at < len(self.ids)
        found[inside] = self.ids[at[inside]] == ids[inside]
        # An earlier lapsed row gives way to an insured one; in every other case the earlier row stays.
        replaces = found & insured & ~self.insured[np.where(found, at, 0)] if len(self.ids) else found
        displaced = at[replaces]
        out = Admitted(
            keep=~found | replaces,
            displaced_rows=self.rows[displaced],
            displaced_districts=self.districts[displaced],
            displaced_ids=self.ids[displaced],
        )
        self.rows[displaced], self.districts[displaced], self.insured[displaced] = (
            rows[replaces],
            districts[replaces],
            True,
        )
        new = ~found
        order = np.argsort(ids[new], kind="stable")
        where = at[new][order]
        self.ids = np.insert(self.ids, where, ids[new][order])
        self.rows = np.insert(self.rows, where, rows[new][order])
        self.districts = np.insert(self.districts, where, districts[new][order])
        self.insured = np.insert(self.insured, where, insured[new][order])
        return out
