"""目标进度's rows: each target's indicators, the year and kind of figure they are measured against, and progress."""

from __future__ import annotations

import numpy as np
import pandas as pd

from config import Config
from tasks.publish.checks import city_total

BASELINE_MISSING = "2019年基数待录入"
COLUMNS = ["target", "indicator", "measure_unit", "basis", "value", "goal", "progress", "note", "sources"]


def target_rows(cfg: Config, current: pd.DataFrame, month: str) -> pd.DataFrame:
    """One row per target and indicator of the month's year: the city-wide figure against its target or 2019
    baseline; a baseline not yet entered is said so, in words for a leader, with no progress guessed."""
    year = int(month[:4])
    rows = []
    for t in (t for t in cfg.targets if t.year == year):
        for concept in t.concepts:
            inds = cfg.concepts.get(concept, ())
            value, used = city_total(cfg, current, concept)
            measure = t.measure_unit or (inds[0].measure_unit if inds else "")
            if t.kind == "at_least":
                basis, goal = f"{t.year}年目标", t.target
            else:
                basis, goal = "2019年实际完成量", t.baseline_2019.get(concept)
            missing = goal is None
            rows.append(
                {
                    "target": t.name,
                    "indicator": inds[0].indicator if inds else concept,
                    "measure_unit": measure,
                    "basis": basis,
                    "value": value,
                    "goal": goal,
                    "progress": value / goal if goal and not np.isnan(value) else np.nan,
                    "note": BASELINE_MISSING if missing and t.kind != "at_least" else "",
                    "sources": "+".join(used),
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)
