"""Errors about labor data, redacted: they name the file, row and column, never a cell's content.

Parsers and drivers quote what they choke on (pyarrow the whole CSV row, calamine the cell, PostgreSQL the COPY line,
SQLAlchemy the parameters): that is a name and an identity number. Every error leaving a labor step is rebuilt here
from facts we compute ourselves, and raised `from None` so the original never rides along in a traceback.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from core.errors import FupinError

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError

KNOWN_CELL_ERRORS = {b"#N/A", b"#VALUE!", b"#REF!", b"#DIV/0!", b"#NUM!", b"#NAME?", b"#NULL!", b"#GETTING_DATA"}
_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*\bt=\"e\"[^>]*)>\s*<(?:\w+:)?v>([^<]*)</")
_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]{1,7})\"")


class LaborFileError(FupinError):
    """The file cannot be read as a labor export: the message says what is missing, `rule` names the check."""

    def __init__(self, message: str, rule: str = "unreadable_file") -> None:
        super().__init__(message)
        self.rule = rule


class LaborDatabaseError(FupinError):
    """The warehouse refused labor rows; the message keeps the database's first line, never its DETAIL or rows."""


class TransientLaborDatabaseError(LaborDatabaseError, ConnectionError):
    """A connection-level failure: still retried (core/retry.py treats ConnectionError as transient)."""


def _shift(n: int, header: list[str]) -> tuple[str, str]:
    """Where a row's fields part from the header: one past its last column, or from the first column missing."""
    if n > len(header):
        return (
            f"有{n}个字段，表头只有{len(header)}列（“{header[-1]}”之后多出字段，未加引号的逗号？）",
            f"{n} fields where the header has {len(header)}: extra after column {header[-1]} (an unquoted comma?)",
        )
    return f"只有{n}个字段，缺少“{header[n]}”及之后的列", f"only {n} fields: column {header[n]} and after are missing"


def csv_field_count_error(lines: Iterable[str], skip: int, name: str) -> LaborFileError:
    """The first row whose field count differs from the header's, by its line in the file (1-based); `lines` is
    streamed (an open text file), never held."""
    reader = csv.reader(lines)
    header: list[str] | None = None
    for fields in reader:
        if reader.line_num <= skip or not fields:
            continue
        if header is None:
            header = fields
        elif len(fields) != len(header):
            zh, en = _shift(len(fields), header)
            return LaborFileError(
                f"{name}: 第{reader.line_num}行 {zh} / row {reader.line_num}: {en}", rule="csv_field_count"
            )
    return LaborFileError(f"{name}: CSV 无法解析 / the CSV cannot be parsed", rule="csv_parse")


def xlsx_error_cell(data: bytes, name: str) -> LaborFileError:
    """The first cell typed as an error whose value is not one of Excel's errors (calamine refuses the sheet)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            sheets = sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
            for sheet in sheets:
                for match in _ERROR_CELL.finditer(zf.read(sheet)):
                    if match.group(2).strip() not in KNOWN_CELL_ERRORS:
                        ref = _REF.search(match.group(1))
                        where = f"{ref.group(1).decode()}{ref.group(2).decode()}" if ref else "?"
                        row = ref.group(2).decode() if ref else "?"
                        return LaborFileError(
                            f"{name}: 第{row}行 单元格 {where} 类型为错误值但内容不是错误（请改为文本）"
                            f" / row {row}, cell {where}: typed as an error but holds no Excel error (make it text)",
                            rule="error_cell",
                        )
    except (zipfile.BadZipFile, OSError):
        pass
    return LaborFileError(f"{name}: 不是可读取的 xlsx 文件 / not a readable xlsx file", rule="not_a_workbook")


def database_error(exc: DBAPIError) -> LaborDatabaseError:
    """The driver's class and first line: SQLAlchemy's parameters and PostgreSQL's DETAIL/CONTEXT lines quote rows."""
    from core.retry import is_transient

    cause = exc.orig if exc.orig is not None else exc
    first = (str(cause).strip().splitlines() or [""])[0][:200]
    cls = TransientLaborDatabaseError if is_transient(exc) else LaborDatabaseError
    return cls(f"warehouse refused the labor rows ({type(cause).__name__}: {first}) / 数据库拒绝写入")


@contextmanager
def redacted(where: str) -> Iterator[None]:
    """Turn any error of a labor step into one that says `where` and the error's type, nothing it quoted."""
    try:
        yield
    except FupinError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a parser raises may quote a row
        # A process that never imported SQLAlchemy (the child reading a file ahead) cannot have raised its errors,
        # and is spared the 0.1 s of importing it.
        sa_exc = sys.modules.get("sqlalchemy.exc")
        if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
            raise database_error(exc) from None
        raise LaborFileError(f"{where}: {type(exc).__name__} / 处理出错（内容不显示）", rule="unprocessable") from None
