"""Write one month of the analyst views to CSV or Parquet files, for people who prefer files to SQL."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy import Engine, text

from tasks.xlsx.style import escape_text
from warehouse.views import View

Format = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "parquet")


def month_frame(engine: Engine, view: View, month: str) -> pd.DataFrame:
    """The view's rows for `month`, with PostgreSQL's exact decimals turned into floats like SQLite's."""
    with engine.connect() as conn:
        result = conn.execute(text(f"SELECT * FROM {view.name} WHERE month = :m"), {"m": month})
        frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    for name in frame.columns:
        if frame[name].map(lambda v: isinstance(v, Decimal)).any():
            frame[name] = frame[name].astype("float64")
    return frame


def inert_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell escaped by the workbooks' one rule; numbers, dates and blanks untouched."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object or pd.api.types.is_string_dtype(out[name]):
            out[name] = out[name].map(lambda v: escape_text(v) if isinstance(v, str) else v)
    return out


def write_frame(frame: pd.DataFrame, path: Path, fmt: Format) -> Path:
    """Write atomically: a half-written file is never left under the final name."""
    tmp = path.with_name(path.name + ".part")
    if fmt == "csv":  # a spreadsheet opens CSV text as formulas; Parquet keeps types, so its text stays exact
        # The BOM lets Excel read Chinese text; CRLF rows (RFC 4180) make the writer quote a lone CR inside a text,
        # which would otherwise end the row there.
        inert_text(frame).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    else:
        frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def export_month(engine: Engine, views: Sequence[View], month: str, fmt: Format, out_dir: Path) -> list[Path]:
    """One file per view that has a month column, holding that month's rows; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_frame(month_frame(engine, view, month), out_dir / f"{view.name}.{fmt}", fmt)
        for view in views
        if "month" in view.columns
    ]
