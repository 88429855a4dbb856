"""Turn what a clerk typed into a cell into a number, a date or 'not reported'."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

NOT_REPORTED = frozenset({"-", "--", "—", "——", "–", "/", "无", "／"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")


@dataclass(frozen=True)
class Parsed:
    """A cell's meaning: a value, or None (not reported); `problem` names the rule when it cannot be read."""

    value: float | None
    problem: str | None = None


def is_percent_format(number_format: str | None) -> bool:
    """True for a real percent format (0%, 0.00%), not for a literal "%" suffix such as 0.00"%"."""
    if not number_format:
        return False
    unquoted = re.sub(r'"[^"]*"|\\.', "", number_format)
    return "%" in unquoted


def fold(text: str) -> str:
    """NFKC-fold (full-width digits and punctuation) and trim."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_value(raw: object, number_format: str | None, kind: str) -> Parsed:
    """Read one value cell; rates stored as fractions with a percent format are scaled to 0-100."""
    if raw is None or isinstance(raw, bool):
        return Parsed(None) if raw is None else Parsed(None, "not_a_number")
    if isinstance(raw, (int, float)):
        value = float(raw)
        if kind == "rate" and is_percent_format(number_format):
            value = round(value * 100, 10)
        return Parsed(value)
    if isinstance(raw, (dt.date, dt.time)):
        return Parsed(None, "not_a_number")
    return _parse_text(fold(str(raw)).replace(" ", ""))


def _parse_text(text: str) -> Parsed:
    """A folded, space-free text cell: blank or a not-reported mark, else a number with optional % and 1,000s commas."""
    if text == "" or text in NOT_REPORTED:
        return Parsed(None)
    text = text.removesuffix("%")
    if _GROUPED.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        return Parsed(None, "not_a_number")
    return Parsed(float(text))


def parse_date(raw: object) -> dt.date | None:
    """报送时间 as an Excel date, a datetime, or text such as 2020年10月9日, 2020.10.9, 2020-10-09."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if raw is None:
        return None
    m = _DATE.search(fold(str(raw)))
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


_MONTH_PATTERNS = (
    re.compile(r"(20\d\d)\s*年\s*(1[0-2]|0?[1-9])\s*月"),
    re.compile(r"(?<!\d)(20\d\d)[-_.](1[0-2]|0[1-9])(?!\d)"),
    re.compile(r"(?<!\d)(20\d\d)(1[0-2]|0[1-9])(?!\d)"),
)


def month_in_text(text: str | None) -> str | None:
    """The reporting month written in a file name or title: 2020-09, 202009, 2020年9月."""
    if not text:
        return None
    folded = fold(text)
    for pattern in _MONTH_PATTERNS:
        m = pattern.search(folded)
        if m:
            return f"{int(m[1]):04d}-{int(m[2]):02d}"
    return None
