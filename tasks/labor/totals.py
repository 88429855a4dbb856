"""Read Attachment 1 back from the labor views."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, text


def attachment1_by_district(engine: Engine, month: str) -> pd.DataFrame:
    """表1: district, persons, largest first (v_labor_by_district)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT district, persons FROM v_labor_by_district WHERE month = :m ORDER BY persons DESC, district"),
            {"m": month},
        ).all()
    return pd.DataFrame(rows, columns=["district", "persons"])


def attachment1_by_origin(engine: Engine, month: str, provinces: list[str]) -> pd.DataFrame:
    """表2 and beyond: province, city, county, persons for the given provinces (v_labor_by_origin)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT province, city, county, persons FROM v_labor_by_origin WHERE month = :m"), {"m": month}
        ).all()
    frame = pd.DataFrame(rows, columns=["province", "city", "county", "persons"])
    return frame.loc[frame["province"].isin(provinces)].reset_index(drop=True)
