"""What a unit's workbook says once read, before any rule is checked: the shape the report contracts judge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from config import Unit
from contracts.messages import Issue

CELL_COLUMNS = ["row_no", "region", "value", "raw", "cell"]


@dataclass
class ParsedReport:
    """What a workbook says, before any rule is checked; `issues` are the problems met while reading it."""

    file_name: str
    sheet: str | None = None
    form_code: str | None = None
    unit: Unit | None = None
    unit_text: str | None = None
    month: str | None = None
    month_source: str | None = None
    sent_on: dt.date | None = None
    cells: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CELL_COLUMNS))
    remarks: dict[int, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
