"""Identity-number checks against a plain scalar reading of GB 11643 / ISO 7064 MOD 11-2."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import unicodedata

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.identity import (
    check_char,
    hmac_sha256,
    id_ascii_ok,
    id_format_ok,
    id_valid,
    mask_ids,
    normalize_ids,
    person_keys,
)

TODAY = dt.date(2026, 1, 1)
DIGITS = "0123456789"


def reference_valid(number: str) -> bool:
    """The rule as the standard states it, one character at a time, on the NFKC form of the number."""
    number = unicodedata.normalize("NFKC", number)
    if len(number) != 18 or any(c not in DIGITS for c in number[:17]) or number[17] not in DIGITS + "Xx":
        return False
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(number[:17]))
    if "10X98765432"[total % 11] != number[17].upper():
        return False
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= TODAY


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
areas = st.integers(min_value=110000, max_value=659999)


@settings(max_examples=100, deadline=None)
@given(areas, dates, st.integers(0, 999))
def test_a_well_made_number_passes_and_any_other_check_character_fails(area: int, born: dt.date, seq: int) -> None:
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    good = body + check_char(body)
    others = [body + c for c in "0123456789X" if c != check_char(body)]
    got = id_valid(pd.Series([good, good.lower(), *others]), TODAY)
    assert got.tolist() == [True, True] + [False] * 10


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789Xx中 ᪃０１９ｘ٣४", min_size=0, max_size=20)
        | st.from_regex(r"\A[0-9]{6}(19|20)[0-9]{9}[0-9X]\Z"),
        min_size=1,
        max_size=20,
    )
)
def test_vectorised_check_agrees_with_the_scalar_reference(numbers: list[str]) -> None:
    assert id_valid(pd.Series(numbers, dtype=object), TODAY).tolist() == [reference_valid(n) for n in numbers]


def test_impossible_and_future_birth_dates_fail() -> None:
    def make(date: str) -> str:
        body = f"110105{date}123"
        return body + check_char(body)

    cases = {
        "20000229": True,
        "19000229": False,
        "19990230": False,
        "19991301": False,
        "18991231": False,
        "20251231": True,
        "20260102": False,
    }
    got = id_valid(pd.Series([make(d) for d in cases]), TODAY)
    assert got.tolist() == list(cases.values())


def test_person_key_is_hmac_sha256_of_the_upper_cased_number_and_depends_on_the_key() -> None:
    ids = pd.Series(["11010519491231002x", "110105194912310037"])
    keys = person_keys(ids, b"k1")
    assert keys[0] == hmac.new(b"k1", b"11010519491231002X", hashlib.sha256).digest()
    assert len(keys[0]) == 32 and keys[0] != keys[1]
    assert keys[0] != person_keys(ids, b"k2")[0]
    assert b"1949" not in b"".join(keys)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=200), st.binary(min_size=0, max_size=100))
def test_hmac_with_hashed_pads_agrees_with_the_standard_library(key: bytes, message: bytes) -> None:
    assert hmac_sha256(key)(message) == hmac.new(key, message, hashlib.sha256).digest()


def test_mask_keeps_only_the_first_six_and_last_four() -> None:
    assert mask_ids(pd.Series(["11010519491231002X", "123", None])).tolist() == ["110105********002X", "****", "****"]


def test_full_width_is_the_same_number_and_other_digit_scripts_are_refused() -> None:
    body = "110105194912310"
    good = body + "03" + check_char(body + "03")
    full = good.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    arabic = good.translate({ord(c): 0x0660 + int(c) for c in "0123456789"})
    devanagari = good.translate({ord(c): 0x0966 + int(c) for c in "0123456789"})
    ids = normalize_ids(pd.Series([good, full, arabic, devanagari, good[:17] + "x", None]))
    assert ids.iloc[1] == good and ids.iloc[4].endswith("X")
    assert id_ascii_ok(ids).tolist() == [True, True, False, False, True, True]
    assert id_format_ok(ids).tolist()[:4] == [True, True, False, False]
    assert person_keys(ids.iloc[[0, 1]], b"k" * 32).nunique() == 1
