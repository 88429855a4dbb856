"""Read the HR bureau's export (xlsx, or CSV in UTF-8/GB18030) in batches: find the header by content, map aliases."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import io
import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path

import fastexcel
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from config import Config, normalize_text
from tasks.intake.safety import LABOR_LIMITS, UnsafeFileError, check_file, check_size
from tasks.labor.ahead import BATCH_ROWS
from tasks.labor.errors import LaborFileError, csv_field_count_error, redacted, xlsx_error_cell

HEADER_SCAN_ROWS = 30
HEAD_BYTES = 1 << 20  # the title rows, the header and enough of the body to tell the encoding
ENCODINGS = ("utf-8-sig", "gb18030")
BLOCK_BYTES = 8 << 20  # Arrow's CSV block: large enough to parse in parallel, small next to a batch
# A CSV is streamed, so its size costs time and disk, not memory: 30 M rows a month (~4 GB) fit. A workbook is
# still held whole (its zip, and calamine's sheet) and keeps the safety module's cap; Excel stops at 1,048,576 rows.
CSV_LIMITS = dataclasses.replace(LABOR_LIMITS, max_file_bytes=8 << 30)

__all__ = ["BATCH_ROWS", "LaborFileError", "iter_labor", "read_labor"]


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


def column_positions(header: Sequence[object], cfg: Config) -> dict[str, int]:
    """Canonical column name -> its position in the header row (the first column claiming it)."""
    aliases = header_map(cfg)
    found: dict[str, int] = {}
    for i, value in enumerate(header):
        name = aliases.get(normalize_text(value)) if value is not None else None
        if name and name not in found:
            found[name] = i
    return found


def canonical_batch(columns: dict[str, pa.Array], first_row: int, n: int) -> pd.DataFrame:
    """source_row plus the configured columns as trimmed text; blank rows dropped (their numbers kept). In Arrow,
    column by column: trimming (full-width spaces too) and the blank-row test never leave C++."""
    text = {
        name: pc.utf8_trim_whitespace(pc.fill_null(arr.cast(pa.large_string()), "")) for name, arr in columns.items()
    }
    blank = functools.reduce(pc.and_, (pc.equal(arr, "") for arr in text.values()))
    keep = pc.invert(blank)
    rows = pc.filter(pa.array(np.arange(first_row, first_row + n, dtype=np.int64)), keep)
    out = {"source_row": rows.to_numpy()} | {
        name: pd.Series(pc.filter(arr, keep), dtype=pd.StringDtype("pyarrow")) for name, arr in text.items()
    }
    return pd.DataFrame(out)


def batch_sizes(rows: int, first_rows: int | None = None) -> Iterator[int]:
    """Each batch's size: `rows`; or, from `first_rows`, each batch half again the one before, up to `rows`. A small
    first batch starts a pipeline sooner; the batches then grow about as fast as the next one can be read and checked
    while this one loads (doubling, the loader waited 0.3-0.5 s a file), to the size a large file needs (on SQLite
    each batch is one more pass over the person table's pages)."""
    size = min(first_rows or rows, rows)
    while size < rows:
        yield size
        size = max(size + 1, size * 3 // 2)
    yield from itertools.repeat(rows)


def rebatch(tables: Iterator[pa.Table], sizes: Iterator[int]) -> Iterator[pa.Table]:
    """The same rows, in tables of exactly the next of `sizes` rows (the last one shorter)."""
    pending: list[pa.Table] = []
    held = 0
    rows = next(sizes)
    for table in tables:
        pending.append(table)
        held += table.num_rows
        while held >= rows:
            whole = pa.concat_tables(pending)
            yield whole.slice(0, rows)
            rest = whole.slice(rows)
            pending, held = [rest], rest.num_rows
            rows = next(sizes)
    if held:
        yield pa.concat_tables(pending)


def iter_xlsx(
    data: bytes, name: str, cfg: Config, batch_rows: int, first_rows: int | None = None
) -> Iterator[pd.DataFrame]:
    """The first sheet (visible first) whose top rows hold the header, in batches; calamine via fastexcel, as text.
    Calamine parses a whole sheet at once (measured: the fastest bounded path; Excel stops at 1,048,576 rows)."""
    try:
        reader = fastexcel.read_excel(data)
        sheet, h, header = _find_sheet(reader, name, cfg)
    except LaborFileError:
        raise
    except Exception:  # noqa: BLE001 - calamine quotes the cell it refuses: locate it ourselves instead
        failure = xlsx_error_cell(data, name)
    else:
        positions = column_positions(header, cfg)
        body = sheet.slice(h + 1)
        del sheet
        start = 0
        for size in batch_sizes(batch_rows, first_rows):
            if start >= body.num_rows:
                return
            part = body.slice(start, size)
            columns = {c: part.column(positions[c]).combine_chunks() for c in cfg.labor.columns}
            yield canonical_batch(columns, h + 2 + start, part.num_rows)
            start += size
    raise failure from None


def _find_sheet(reader: fastexcel.ExcelReader, name: str, cfg: Config) -> tuple[pa.Table, int, list[object]]:
    sheets = sorted(reader.sheet_names, key=lambda n: n.startswith("_"))
    scanned: list[list[object]] = []
    for sheet in sheets:
        # One pass per sheet: calamine parses the whole sheet even for a few rows, so read it all once, as text.
        loaded = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string")
        grid = pa.Table.from_batches([loaded.to_arrow()])
        rows = [list(r.values()) for r in grid.slice(0, HEADER_SCAN_ROWS).to_pylist()]
        scanned.extend(rows)
        h = find_header(rows, cfg, name)
        if h is not None:
            return grid, h, rows[h]
    raise LaborFileError(_missing_message(scanned, cfg, name), rule="header_missing")


def sniff_encoding(head: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) if the file's first megabyte is, else GB18030 (a superset of GBK)."""
    for encoding in ENCODINGS:
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise LaborFileError(
        f"{name}: 无法识别编码（应为 UTF-8 或 GBK）/ encoding is neither UTF-8 nor GB18030", rule="encoding"
    )


def iter_csv(
    path: Path, name: str, cfg: Config, batch_rows: int, first_rows: int | None = None
) -> Iterator[pd.DataFrame]:
    """A CSV export in batches: tell the encoding, skip title rows, stream it through Arrow's parser as text."""
    with path.open("rb") as fh:
        head_bytes = fh.read(HEAD_BYTES)
    encoding = sniff_encoding(head_bytes, name)
    text = codecs.getincrementaldecoder(encoding)().decode(head_bytes, final=False)
    head = list(csv.reader(io.StringIO("\n".join(text.splitlines()[:HEADER_SCAN_ROWS]))))
    h = find_header(head, cfg, name)
    if h is None:
        raise LaborFileError(_missing_message(head, cfg, name), rule="header_missing")
    positions = column_positions(head[h], cfg)
    names = [f"c{i}" for i in range(len(head[h]))]
    wanted = {c: names[i] for c, i in positions.items()}
    options = (
        pacsv.ReadOptions(
            skip_rows=h + 1,
            column_names=names,
            block_size=BLOCK_BYTES,
            encoding="utf8" if encoding == "utf-8-sig" else encoding,
        ),
        pacsv.ParseOptions(),
        pacsv.ConvertOptions(
            include_columns=list(wanted.values()),
            column_types=dict.fromkeys(wanted.values(), pa.large_string()),
            strings_can_be_null=False,
        ),
    )
    start = h + 2
    try:
        reader = pacsv.open_csv(path, *options)
        for table in rebatch((pa.Table.from_batches([b]) for b in reader), batch_sizes(batch_rows, first_rows)):
            columns = {c: table.column(wanted[c]).combine_chunks() for c in cfg.labor.columns}
            yield canonical_batch(columns, start, table.num_rows)
            start += table.num_rows
        return
    except pa.ArrowInvalid as exc:  # Arrow quotes the whole offending row: locate it ourselves
        failure = _csv_failure(path, encoding, h, name, "UTF8" in str(exc))
    raise failure from None


def _csv_failure(path: Path, encoding: str, h: int, name: str, bad_text: bool) -> LaborFileError:
    if bad_text:
        return LaborFileError(
            f"{name}: 文件中有不是 {encoding} 编码的内容 / the file is not {encoding} throughout", rule="encoding"
        )
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        return csv_field_count_error(fh, h, name)


def _checked(path: Path, name: str) -> tuple[str, bytes | None]:
    """The suffix and, for a workbook, its bytes; refuses a file the safety module refuses."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt"}:
            check_size(path.stat().st_size, CSV_LIMITS)
            with path.open("rb") as fh:
                check_file(fh.read(HEAD_BYTES), suffix, CSV_LIMITS)
            return suffix, None
        check_size(path.stat().st_size, LABOR_LIMITS)
        data = path.read_bytes()
        check_file(data, suffix, LABOR_LIMITS)
    except UnsafeFileError as exc:
        raise LaborFileError(f"{name}: {exc}", rule=exc.rule) from exc
    return suffix, data


def iter_labor(
    path: Path,
    cfg: Config,
    name: str | None = None,
    batch_rows: int = BATCH_ROWS,
    first_rows: int | None = None,
) -> Iterator[pd.DataFrame]:
    """source_row plus the configured columns as text, `batch_rows` rows at a time (the first batch `first_rows`, if
    given), whatever the format and encoding; errors say `name`, never a cell's content."""
    name = name or path.name
    suffix, data = _checked(path, name)
    with redacted(name):
        if suffix in {".xlsx", ".xlsm"} and data is not None:
            yield from iter_xlsx(data, name, cfg, batch_rows, first_rows)
            return
        if suffix in {".csv", ".txt"}:
            yield from iter_csv(path, name, cfg, batch_rows, first_rows)
            return
    raise LaborFileError(f"{name}: 只接受 .xlsx 或 .csv / only .xlsx or .csv is accepted", rule="file_type")


def read_labor(path: Path, cfg: Config, name: str | None = None) -> pd.DataFrame:
    """The whole file at once (re-keying, tests): the batches of iter_labor, concatenated."""
    parts = list(iter_labor(path, cfg, name))
    if parts:
        return pd.concat(parts, ignore_index=True)
    return empty_batch(cfg)


def empty_batch(cfg: Config) -> pd.DataFrame:
    """A batch of no rows, with the columns and types of iter_labor's."""
    return canonical_batch({c: pa.array([], pa.large_string()) for c in cfg.labor.columns}, 1, 0)
