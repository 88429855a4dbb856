"""Hostile files for the parser (issue 12, items 9-11): formulas without a cached value, grids that blow up, DTDs,
and parts other than sheets that inflate past reason."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook

from config import Config
from fupin.demo import labor as demo_labor
from fupin.demo.bad_files import BadFile, _bomb_sheet, _unit, _write_zip, _zip_entry, good_report
from fupin.demo.report_fixtures import cell

# 合计 of 序号 1 gets each formula; Excel writes ^ for a power, ** is how Python (and the old evaluator) spelt it.
FORMULAS = {
    "formula_power.xlsx": "=1.5^100000",
    "formula_python_power.xlsx": "=1.5**100000",
    "formula_empty_parens.xlsx": "=()",
    "formula_huge.xlsx": "=10^400",
    "formula_python_huge.xlsx": "=10**400",
    "formula_whole_sheet.xlsx": "=SUM(A1:ZZZ999999)",
}
STRINGS_BOMB_BYTES = 1500 << 20
STYLES_BYTES = 60 << 20
_STRINGS = "xl/sharedStrings.xml"
_STRINGS_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_STRINGS_REL = (
    b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/sharedStrings" Target="sharedStrings.xml"/>'
)


def formula_report(cfg: Config, path: Path, cells: dict[tuple[int, str], str]) -> Path:
    """A district's good report with formulas (no cached value, as openpyxl writes them) in the given cells."""
    return good_report(cfg, path, cells=cells)


def circular(cfg: Config, path: Path) -> Path:
    """合计 of 序号 1 and 2 refer to each other."""
    unit = _unit(cfg, "表1").code
    first, second = cell(cfg, unit, 1, cfg.total_column), cell(cfg, unit, 2, cfg.total_column)
    return formula_report(cfg, path, {(1, cfg.total_column): f"={second}+1", (2, cfg.total_column): f"={first}+1"})


def far_corners(cfg: Config, path: Path) -> Path:
    """A good report plus one cell at row 5,000 and one at column 200: every limit kept, a million-cell rectangle."""
    good_report(cfg, path)
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    ws["A5000"], ws["GR1"] = "x", "x"
    wb.save(path)
    return path


def _rewrite(path: Path, members: set[str], change: Callable[[bytes], bytes]) -> Path:
    """The zip at `path` with the bytes of each of `members` passed through `change`."""
    with zipfile.ZipFile(path) as src:
        parts = [(i, src.read(i)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in parts:
            dst.writestr(info, change(data) if info.filename in members else data)
    return path


def entity_rows(cfg: Config, path: Path, rows: int = 20_000) -> Path:
    """A good report whose sheet declares an internal entity expanding to `rows` rows past the row limit."""
    good_report(cfg, path)
    row = "<row><c t='inlineStr'><is><t>x</t></is></c></row>"
    tens, n = [f'<!ENTITY e0 "{row * 10}">'], 0
    while 10 ** (n + 1) < rows:
        n += 1
        tens.append(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">')
    dtd = f"<!DOCTYPE worksheet [{''.join(tens)}]>".encode()
    uses = f"&e{n};".encode() * (rows // 10 ** (n + 1) or 1)

    def smuggle(xml: bytes) -> bytes:
        at = xml.index(b"<worksheet")
        return xml[:at] + dtd + xml[at:].replace(b"</sheetData>", uses + b"</sheetData>")

    return _rewrite(path, {"xl/worksheets/sheet1.xml"}, smuggle)


def _sheet(cells: int, width: int = 200) -> bytes:
    """`cells` distinct numbers, `width` to a row: compressing less than the 200x ratio limit."""
    rows = (
        b"<row>" + b"".join(b"<c><v>%d</v></c>" % (r * width + c) for c in range(width)) + b"</row>"
        for r in range(cells // width)
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>' + b"".join(rows) + b"</sheetData></worksheet>"
    )


def many_sheets(cfg: Config, path: Path, sheets: int = 3, cells: int = 150_000) -> Path:
    """A good report plus `sheets` sheets of `cells` cells each: every sheet within its limits, not all of them."""
    good_report(cfg, path)
    wb = load_workbook(path)
    for i in range(sheets):
        wb.create_sheet(f"附表{i + 1}")
    wb.save(path)
    filled = _sheet(cells)
    return _rewrite(path, {f"xl/worksheets/sheet{i + 2}.xml" for i in range(sheets)}, lambda _: filled)


def styles_bloat(cfg: Config, path: Path, size: int = STYLES_BYTES) -> Path:
    """A good report whose styles.xml is `size` bytes of distinct cell formats, honestly declared."""
    good_report(cfg, path)
    xf = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="%d" xfId="0"/>'
    n = size // len(xf % 1_000_000)
    bloat = b'<cellXfs count="%d">' % n + b"".join(xf % (i * 7919 % 1_000_003) for i in range(n)) + b"</cellXfs>"
    return _rewrite(path, {"xl/styles.xml"}, lambda xml: xml.replace(b"<cellStyles", bloat + b"<cellStyles", 1))


def strings_bomb(cfg: Config, path: Path, total: int = STRINGS_BOMB_BYTES, declared: int = 1000) -> Path:
    """A small labor xlsx whose shared-strings part declares `declared` bytes and inflates to `total`."""
    frame = demo_labor.generate_labor(cfg, by_district={cfg.districts[0].name: 20}, by_paired_county={})
    plain = demo_labor.write_xlsx(frame, path.with_suffix(".plain.xlsx"))
    with zipfile.ZipFile(plain) as zf:
        entries = [
            _zip_entry(i.filename, zf.read(i).replace(b"</Relationships>", _STRINGS_REL + b"</Relationships>"))
            for i in zf.infolist()
        ]
    plain.unlink()
    data, crc, _ = _bomb_sheet(total, _STRINGS_HEAD, b"<si><t>x</t></si>")
    return _write_zip(path, [*entries, (_STRINGS.encode(), data, crc, declared)])


def labor_far_corners(cfg: Config, path: Path) -> Path:
    """A small labor xlsx plus one cell at row 999,999 and column 200: a 200-million-cell rectangle."""
    frame = demo_labor.generate_labor(cfg, by_district={cfg.districts[0].name: 20}, by_paired_county={})
    demo_labor.write_xlsx(frame, path)
    far = b'<row r="999999"><c r="GR999999" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    return _rewrite(path, {"xl/worksheets/sheet1.xml"}, lambda xml: xml.replace(b"</sheetData>", far, 1))


def make_all(cfg: Config, out: Path, with_bombs: bool = True) -> list[BadFile]:
    """Write this module's hostile files into `out`; return what each is and the rule expected to refuse it."""
    total = (1, cfg.total_column)
    files = []
    for name, formula in FORMULAS.items():
        formula_report(cfg, out / name, {total: formula})
        files.append(BadFile(name, f"合计 holds {formula} with no cached value", "formula_unevaluable"))
    circular(cfg, out / "formula_circular.xlsx")
    files.append(BadFile("formula_circular.xlsx", "two 合计 cells referring to each other", "formula_unevaluable"))
    far_corners(cfg, out / "far_corners.xlsx")
    files.append(BadFile("far_corners.xlsx", "one cell at row 5,000 and one at column 200", "too_large_grid"))
    entity_rows(cfg, out / "entity_rows.xlsx")
    files.append(BadFile("entity_rows.xlsx", "an internal entity expanding to 20,000 rows", "dtd"))
    many_sheets(cfg, out / "many_sheets.xlsx")
    files.append(BadFile("many_sheets.xlsx", "3 sheets of 150,000 cells each", "too_many_cells"))
    styles_bloat(cfg, out / "styles_bloat.xlsx")
    files.append(BadFile("styles_bloat.xlsx", "a 60 MB styles.xml", "uncompressed_size"))
    labor_far_corners(cfg, out / "labor_far_corners.xlsx")
    files.append(BadFile("labor_far_corners.xlsx", "labor xlsx with a cell at GR999999", "too_large_grid", "labor"))
    if with_bombs:
        strings_bomb(cfg, out / "labor_strings_bomb.xlsx")
        files.append(
            BadFile(
                "labor_strings_bomb.xlsx",
                "shared strings declaring 1,000 bytes, inflating to 1.5 GB",
                "size_mismatch",
                "labor",
            )
        )
    return files
