"""The form grid of a checked workbook: every cell as the unit wrote it, failing cells marked with their messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from config import Config
from contracts.messages import Issue
from contracts.parsed import ParsedReport


@dataclass
class GridCell:
    text: str = ""
    address: str | None = None
    severity: str | None = None  # "error", "warning" or None
    messages: list[Issue] = field(default_factory=list)


@dataclass
class GridRow:
    row_no: int
    indicator: str
    measure_unit: str
    cells: list[GridCell]
    remark: str | None = None

    @property
    def messages(self) -> list[tuple[str, Issue]]:
        """Each of the row's cell messages with the column it is about."""
        return [(c.address or "", m) for c in self.cells for m in c.messages]


@dataclass
class Grid:
    """A form as a table: its columns, its rows, and the problems that belong to no cell."""

    form_code: str
    title: str
    columns: list[str]
    rows: list[GridRow]
    loose: list[Issue]


def _text(raw: object) -> str:
    return "" if raw is None or raw != raw else str(raw)  # NaN (a blank read by pandas) shows as blank


def build_grid(cfg: Config, parsed: ParsedReport, errors: list[Issue], warnings: list[Issue]) -> Grid | None:
    """The grid of the parsed form, or None when the file's form could not be told (its problems are then listed)."""
    if parsed.form_code is None:
        return None
    form = cfg.form(parsed.form_code)
    columns = list(cfg.columns(form))
    cells: dict[tuple[int, str], GridCell] = {}
    for row_no, region, raw, address in parsed.cells[["row_no", "region", "raw", "cell"]].itertuples(index=False):
        cells[(int(str(row_no)), str(region))] = GridCell(_text(raw), str(address) if address else None)
    by_address = {c.address: c for c in cells.values() if c.address}
    loose: list[Issue] = []
    for issue in [*errors, *warnings]:
        target = None
        if issue.row_no is not None and issue.region is not None:
            target = cells.setdefault((issue.row_no, issue.region), GridCell(address=issue.cell))
        elif issue.cell:
            target = by_address.get(issue.cell)
        if target is None:
            loose.append(issue)
            continue
        target.messages.append(issue)
        if target.severity != "error":
            target.severity = issue.severity
    rows = [
        GridRow(
            ind.row_no,
            ind.indicator,
            ind.measure_unit,
            [cells.get((ind.row_no, col), GridCell()) for col in columns],
            parsed.remarks.get(ind.row_no),
        )
        for ind in form.rows
    ]
    return Grid(form.code, form.title, columns, rows, loose)
