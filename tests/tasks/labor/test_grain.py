"""A checked number packed into one int64 and back: lossless, and ordered as the numbers are."""

from __future__ import annotations

import numpy as np

from tasks.labor.grain import pack_ids, unpack_ids


def test_numbers_pack_losslessly_and_in_order() -> None:
    rng = np.random.default_rng(18)
    raw = rng.integers(ord("0"), ord("9") + 1, size=(5000, 18), dtype=np.uint8)
    raw[::3, 17] = ord("X")
    raw[0], raw[1] = np.frombuffer(b"0" * 18, np.uint8), np.frombuffer(b"9" * 17 + b"X", np.uint8)
    numbers = [bytes(row).decode() for row in raw]
    packed = pack_ids(raw)
    assert unpack_ids(packed).tolist() == numbers
    assert packed[0] == 0 and packed[1] == (10**17 - 1) * 11 + 10, "the extremes fit in an int64"
    # Numbers sort as their packed values do (the kept set is searched by them); X after every digit.
    assert [numbers[i] for i in np.argsort(packed, kind="stable")] == sorted(
        numbers, key=lambda n: (n[:17], n[17:] == "X", n)
    )
