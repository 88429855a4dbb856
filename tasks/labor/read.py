"""Read the HR bureau's export (xlsx, or CSV in UTF-8/GB18030): find the header by content, map aliases."""

from __future__ import annotations

import codecs
import csv
import functools
import io
from collections.abc import Sequence
from pathlib import Path

import fastexcel
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from config import Config, normalize_text
from tasks.intake.safety import LABOR_LIMITS, UnsafeFileError, check_file, check_size
from tasks.labor.errors import LaborFileError, csv_field_count_error, redacted, xlsx_error_cell

HEADER_SCAN_ROWS = 30
ENCODINGS = ("utf-8-sig", "gb18030")

__all__ = ["LaborFileError", "read_labor"]


def header_map(cfg: Config) -> dict[str, str]:
    """Normalised header text -> canonical column name, from cfg.labor.columns."""
    return {normalize_text(alias): name for name, aliases in cfg.labor.columns.items() for alias in aliases}


def find_header(rows: Sequence[Sequence[object]], cfg: Config, name: str) -> int | None:
    """Index of the first row holding every configured column's header (by any alias)."""
    aliases = header_map(cfg)
    wanted = set(cfg.labor.columns)
    for i, row in enumerate(rows):
        names = [aliases.get(normalize_text(v)) for v in row if v is not None and str(v).strip()]
        if wanted <= set(names):
            repeated = sorted({cfg.labor.columns[n][0] for n in names if n and names.count(n) > 1})
            if repeated:  # two columns claiming to be the same field: which one is right cannot be guessed
                raise LaborFileError(
                    f"{name}: 表头列重复：{'、'.join(repeated)} / header column repeated: {', '.join(repeated)}",
                    rule="header_repeated",
                )
            return i
    return None


def _missing_message(rows: Sequence[Sequence[object]], cfg: Config, where: str) -> str:
    aliases = header_map(cfg)
    best = max(rows, key=lambda r: sum(normalize_text(v) in aliases for v in r if v is not None), default=[])
    got = {aliases.get(normalize_text(v)) for v in best if v is not None}
    missing = [cfg.labor.columns[c][0] for c in cfg.labor.columns if c not in got]
    return f"{where}: 找不到表头列 {'、'.join(missing)} / header columns not found: {', '.join(missing)}"


def _canonical(frame: pd.DataFrame, cfg: Config, first_row: int) -> pd.DataFrame:
    """Keep the configured columns under canonical names, as text, with the file's own row numbers."""
    aliases = header_map(cfg)
    rename: dict[str, str] = {}
    for col in frame.columns:
        name = aliases.get(normalize_text(col))
        if name and name not in rename.values():
            rename[col] = name
    picked = frame[list(rename)].rename(columns=rename)
    # In Arrow, column by column: trimming (full-width spaces too) and the blank-row test never leave C++.
    text = {
        name: pc.utf8_trim_whitespace(
            pc.fill_null(pa.array(picked[name], type=pa.large_string(), from_pandas=True), "")
        )
        for name in cfg.labor.columns
    }
    blank = functools.reduce(pc.and_, (pc.equal(arr, "") for arr in text.values()))
    keep = pc.invert(blank)
    rows = pc.filter(pa.array(np.arange(first_row, first_row + len(picked), dtype=np.int64)), keep)
    out = {"source_row": rows.to_numpy()} | {
        name: pd.Series(pc.filter(arr, keep), dtype=pd.StringDtype("pyarrow")) for name, arr in text.items()
    }
    return pd.DataFrame(out)


def read_xlsx(data: bytes, name: str, cfg: Config) -> pd.DataFrame:
    """The first sheet (visible first) whose top rows hold the header; calamine via fastexcel, all text."""
    try:
        reader = fastexcel.read_excel(data)
        return _read_sheets(reader, name, cfg)
    except LaborFileError:
        raise
    except Exception:  # noqa: BLE001 - calamine quotes the cell it refuses: locate it ourselves instead
        failure = xlsx_error_cell(data, name)
    raise failure from None


def _read_sheets(reader: fastexcel.ExcelReader, name: str, cfg: Config) -> pd.DataFrame:
    sheets = sorted(reader.sheet_names, key=lambda n: n.startswith("_"))
    scanned: list[list[object]] = []
    for sheet in sheets:
        # One pass per sheet: calamine parses the whole sheet even for a few rows, so read it all once, as text.
        grid = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string").to_arrow()
        grid = grid.to_pandas(types_mapper=pd.ArrowDtype)
        top = grid.head(HEADER_SCAN_ROWS).astype(object)
        rows = top.where(top.notna(), None).values.tolist()
        scanned.extend(rows)
        h = find_header(rows, cfg, name)
        if h is not None:
            body = grid.iloc[h + 1 :]
            body.columns = [f"_{i}" if v is None else str(v) for i, v in enumerate(rows[h])]
            return _canonical(body, cfg, first_row=h + 2)
    raise LaborFileError(_missing_message(scanned, cfg, name), rule="header_missing")


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise LaborFileError(
        f"{name}: 无法识别编码（应为 UTF-8 或 GBK）/ encoding is neither UTF-8 nor GB18030", rule="encoding"
    )


def read_csv(raw: bytes, name: str, cfg: Config) -> pd.DataFrame:
    """A CSV export: detect the encoding, skip title rows, parse (Arrow's multithreaded parser) as text."""
    text, encoding = decode(raw, name)
    head = list(csv.reader(io.StringIO("\n".join(text[:200_000].splitlines()[:HEADER_SCAN_ROWS]))))
    h = find_header(head, cfg, name)
    if h is None:
        raise LaborFileError(_missing_message(head, cfg, name), rule="header_missing")
    # The parser wants UTF-8 bytes without a BOM; re-encoding GB18030 text costs far less than a str-based parse.
    body = raw.removeprefix(codecs.BOM_UTF8) if encoding == "utf-8-sig" else text.encode("utf-8")
    try:
        data = pd.read_csv(io.BytesIO(body), skiprows=h, dtype=str, keep_default_na=False, engine="pyarrow")
    except (pd.errors.ParserError, pa.ArrowInvalid):  # Arrow quotes the whole offending row: locate it ourselves
        failure = csv_field_count_error(text, h, name)
    else:
        return _canonical(data, cfg, first_row=h + 2)
    raise failure from None


def read_labor(path: Path, cfg: Config, name: str | None = None) -> pd.DataFrame:
    """source_row plus the configured columns as text, whatever the format and encoding; errors say `name`, never
    a cell's content."""
    suffix, name = path.suffix.lower(), name or path.name
    try:
        check_size(path.stat().st_size, LABOR_LIMITS)
        data = path.read_bytes()
        check_file(data, suffix, LABOR_LIMITS)
    except UnsafeFileError as exc:
        raise LaborFileError(f"{name}: {exc}", rule=exc.rule) from exc
    with redacted(name):
        if suffix in {".xlsx", ".xlsm"}:
            return read_xlsx(data, name, cfg)
        if suffix in {".csv", ".txt"}:
            return read_csv(data, name, cfg)
    raise LaborFileError(f"{name}: 只接受 .xlsx 或 .csv / only .xlsx or .csv is accepted", rule="file_type")
