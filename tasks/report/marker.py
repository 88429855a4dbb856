"""The hidden template marker: a very hidden sheet that says which form, unit and month a workbook is for."""

from __future__ import annotations

from dataclasses import dataclass

from config.layout import LAYOUT

MARKER_SHEET = LAYOUT.marker_sheet
MARKER_KEYS = ("form", "unit", "month", "template_version")


@dataclass(frozen=True)
class Marker:
    """What the office's own template says about itself."""

    form: str
    unit: str
    month: str
    template_version: str

    def rows(self) -> list[tuple[str, str]]:
        """Key/value pairs as written in columns A and B of the marker sheet."""
        return [(k, getattr(self, k)) for k in MARKER_KEYS]

    @classmethod
    def from_rows(cls, rows: list[list[object]]) -> Marker | None:
        """Read the marker from a sheet's cell values; None if the sheet is not a complete marker."""
        found = {str(r[0]).strip(): str(r[1]).strip() for r in rows if len(r) >= 2 and r[0] not in (None, "")}
        if not all(found.get(k) for k in MARKER_KEYS):
            return None
        return cls(**{k: found[k] for k in MARKER_KEYS})
