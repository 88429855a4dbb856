"""Write one month of the analyst views to CSV or Parquet files, for people who prefer files to SQL."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlalchemy import Engine, text

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


def write_frame(frame: pd.DataFrame, path: Path, fmt: Format) -> Path:
    """Write atomically: a half-written file is never left under the final name."""
    tmp = path.with_name(path.name + ".part")
    if fmt == "csv":
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")  # the BOM lets Excel open Chinese text correctly
    else:
        frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def export_month(engine: Engine, views: Sequence[View], month: str, fmt: Format, out_dir: Path) -> list[Path]:
    """One file per view that has a month column, holding that month's rows; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_frame(month_frame(engine, view, month), out_dir / f"{view.name}.{fmt}", fmt)
        for view in views if "month" in view.columns
    ]
