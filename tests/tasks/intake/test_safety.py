"""The pre-parse guard refuses every hostile or broken file by its bytes, before any reader opens a sheet."""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fupin.demo import bad_files
from tasks.intake import safety
from tasks.intake.safety import LABOR_LIMITS, OLE2_MAGIC, REPORT_LIMITS, Limits, UnsafeFileError, check_file
from tasks.intake.xml_scan import blocks, count_rows_cells, scratch

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, cfg) -> tuple[Path, list[bad_files.BadFile]]:
    out = tmp_path_factory.mktemp("bad")
    return out, bad_files.make_all(cfg, out)


def _rule(data: bytes, suffix: str = ".xlsx", limits: Limits = REPORT_LIMITS) -> str:
    with pytest.raises(UnsafeFileError) as info:
        check_file(data, suffix, limits)
    assert info.value.zh and info.value.en and "Traceback" not in str(info.value)
    return info.value.rule


def _sheet_zip(sheet_xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_every_generated_guard_case_gets_its_rule(made) -> None:
    out, files = made
    guard_rules = {
        "empty_file",
        "damaged_zip",
        "not_a_workbook",
        "encrypted",
        "uncompressed_size",
        "size_mismatch",
        "too_many_rows",
        "too_large_grid",
        "dtd",
        "too_many_cells",
    }
    checked = 0
    for f in files:
        limits = LABOR_LIMITS if f.kind == "labor" else REPORT_LIMITS
        data = (out / f.name).read_bytes()
        if f.rule in guard_rules:
            assert _rule(data, Path(f.name).suffix, limits) == f.rule, f.name
            checked += 1
        else:
            check_file(data, Path(f.name).suffix, limits)
    assert checked == 14


def test_macro_workbook_is_taken_for_its_values_with_a_note(made) -> None:
    out, _ = made
    verdict = check_file((out / "macros.xlsm").read_bytes(), ".xlsm")
    assert verdict.kind == "xlsm" and "macros ignored" in verdict.notes[0]
    assert check_file((out / "good.xlsx").read_bytes(), ".xlsx").kind == "xlsx"


def test_old_xls_is_allowed_only_under_its_own_name() -> None:
    ole = OLE2_MAGIC + b"\0" * 600 + "Workbook".encode("utf-16-le")
    assert check_file(ole, ".xls").kind == "xls"
    assert _rule(ole, ".xlsx") == "renamed_xls"
    assert _rule(OLE2_MAGIC + "EncryptedPackage".encode("utf-16-le"), ".xls") == "encrypted"


def test_declared_dimension_over_the_limit_is_refused_before_reading_cells() -> None:
    sheet = b'<worksheet><dimension ref="A1:XFD20"/><sheetData/></worksheet>'
    assert _rule(_sheet_zip(sheet)) == "too_many_columns"
    sheet = b'<worksheet><dimension ref="A1:K9000"/><sheetData/></worksheet>'
    assert _rule(_sheet_zip(sheet)) == "too_many_rows"


def test_a_far_away_cell_without_a_dimension_is_refused() -> None:
    sheet = b'<worksheet><sheetData><row r="900000"><c r="B900000"><v>1</v></c></row></sheetData></worksheet>'
    assert _rule(_sheet_zip(sheet)) == "too_many_rows"
    sheet = b'<worksheet><sheetData><row r="2"><c r="ZZZ2"><v>1</v></c></row></sheetData></worksheet>'
    assert _rule(_sheet_zip(sheet)) == "too_many_columns"


def test_ratio_members_and_file_size_limits() -> None:
    zeros = _sheet_zip(b"<worksheet/>", {"xl/media/blank.bin": b"\0" * (8 << 20)})
    assert _rule(zeros) == "compression_ratio"
    many = _sheet_zip(b"<worksheet/>", {f"xl/x{i}.xml": b"" for i in range(600)})
    assert _rule(many) == "too_many_members"
    small = Limits(1000, 10, 1000, 1000, 10.0, 10, 10, 100)
    assert _rule(b"x" * 1001, ".csv", small) == "file_too_large"


def test_labor_limits_admit_a_big_honest_sheet_that_report_limits_refuse() -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 20_001))
    data = _sheet_zip(b'<worksheet><dimension ref="A1:A20000"/><sheetData>' + rows + b"</sheetData></worksheet>")
    assert check_file(data, ".xlsx", LABOR_LIMITS).kind == "xlsx"
    assert _rule(data) == "too_many_rows"


# VmHWM is this process's own peak: ru_maxrss would carry over the forking parent's (pytest's) size across exec.
_PROBE = """
import json, re, sys, time
from pathlib import Path
from tasks.intake import safety
from tasks.intake.safety import UnsafeFileError, check_file
t = time.perf_counter()
try:
    check_file(open(sys.argv[1], "rb").read(), ".xlsx", getattr(safety, sys.argv[2])); rule = None
except UnsafeFileError as exc:
    rule = exc.rule
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1])
print(json.dumps({"rule": rule, "seconds": time.perf_counter() - t, "peak_mb": peak_kb / 1024}))
"""


@pytest.mark.parametrize(
    ("name", "limits"),
    [("bomb.xlsx", "REPORT_LIMITS"), ("bomb_lying.xlsx", "REPORT_LIMITS"), ("labor_strings_bomb.xlsx", "LABOR_LIMITS")],
)
def test_gigabyte_bomb_refused_fast_and_small(made, name: str, limits: str) -> None:
    """A sheet, or (labor) a shared-strings part declaring 1,000 bytes, that inflates past 1 GB."""
    out, _ = made
    assert zipfile.ZipFile(out / name).infolist()[-1].compress_size < 5 << 20
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out / name), limits],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    probe = json.loads(proc.stdout)
    assert probe["rule"] in {"uncompressed_size", "size_mismatch"}
    assert probe["seconds"] < 5.0
    assert probe["peak_mb"] < 300


def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """~512-byte blocks inflated 64 bytes at a time, so that tags and references fall across many block edges."""
    monkeypatch.setattr(safety, "_CHUNK", 512)
    monkeypatch.setattr(safety, "_STEP", 64)


def _limits(rows: int = 1_048_576, cols: int = 200, cells: int = 20_000_000) -> Limits:
    """Labor-sized limits without the compression-ratio check, which 512-byte blocks would otherwise trip, nor the
    rectangle and total caps, which the far references these tests hide would break first."""
    return Limits(1 << 24, 10, 1 << 24, 1 << 24, 1e9, rows, cols, cells, max_grid=1 << 40, max_total_cells=1 << 40)


def test_rows_and_cells_across_block_edges_are_counted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _small_blocks(monkeypatch)
    row = (
        b'<row r="%d" spans="1:5"><c r="A%d"/><c r="B%d" t="n"><v>1</v></c><c><v>2</v></c><c/>'
        b'<c\n r="E%d" t="inlineStr"><is><r><rPr><color rgb="FFFF0000"/></rPr><t>x</t></r></is></c></row>'
    )
    rows = b"".join(row % (i, i, i, i) for i in range(1, 41)) + b"<row/>"
    for shift in range(64):
        sheet = (
            b'<worksheet><cols><col min="1" max="5"/></cols><sheetData>'
            + b" " * shift
            + rows
            + b'</sheetData><conditionalFormatting sqref="A1"><cfRule type="expression"/></conditionalFormatting>'
            b'<rowBreaks count="1"><brk id="3"/></rowBreaks></worksheet>'
        )
        data = _sheet_zip(sheet)
        check_file(data, ".xlsx", _limits(41, 200, 200))
        assert _rule(data, limits=_limits(40, 200, 200)) == "too_many_rows", shift
        assert _rule(data, limits=_limits(41, 200, 199)) == "too_many_cells", shift


# XFD1048577 breaks both limits; a block ending just after "XFD1" shows the column first.
@pytest.mark.parametrize(
    ("ref", "rules"),
    [
        (b'<c r="XFD1"/>', {"too_many_columns"}),
        (b'<c r="GS9"/>', {"too_many_columns"}),
        (b'<c r="A1048577"/>', {"too_many_rows"}),
        (b'<row r="1048577"/>', {"too_many_rows"}),
        (b'<c r="XFD1048577"/>', {"too_many_rows", "too_many_columns"}),
    ],
)
def test_a_far_reference_is_refused_wherever_the_blocks_fall(
    monkeypatch: pytest.MonkeyPatch, ref: bytes, rules: set[str]
) -> None:
    _small_blocks(monkeypatch)
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c><c r="Z%d"/></row>' % (i, i, i) for i in range(999_980, 10**6))
    head, tail = b"<worksheet><sheetData>", b"</sheetData></worksheet>"
    check_file(_sheet_zip(head + rows + b'<c r="GR1048576"/>' + tail), ".xlsx", _limits())
    for shift in range(64):
        head = b"<worksheet><sheetData>" + b" " * shift
        for sheet in (
            head + ref + rows + tail,
            head + rows[:600] + ref + rows[600:] + tail,
            head + rows + ref + tail,
            head + rows + ref,
            head + rows + ref + b" " * (shift * 5),
        ):
            assert _rule(_sheet_zip(sheet), limits=_limits()) in rules, (shift, sheet[-40:])


def test_the_last_bytes_of_a_sheet_are_read_however_inflating_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    # A call that fills its output cap can hold back the end of a long match with all input taken; here that end
    # completes a far reference.
    _small_blocks(monkeypatch)
    rng = random.Random(8)
    for _ in range(300):
        nines = b"9" * rng.randrange(8, 200) + b'"/>'
        runs = b"".join(bytes([rng.randrange(97, 101)]) * rng.randrange(1, 600) for _ in range(rng.randrange(6)))
        sheet = b"<worksheet><sheetData><v>x" + nines + b"</v>" + runs + b'<c r="A' + nines
        assert _rule(_sheet_zip(sheet), limits=_limits()) == "too_many_rows", sheet[:60]


def test_a_far_reference_inside_a_big_sheet_is_refused() -> None:
    rows = b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c><c r="J%d" t="s"><v>2</v></c></row>' % (i, i, i)
        for i in range(100_000, 130_000)
    )
    head, tail = b"<worksheet><sheetData>", b"</sheetData></worksheet>"
    assert len(rows) > 2 << 20
    check_file(_sheet_zip(head + rows + tail), ".xlsx", LABOR_LIMITS)
    middle = rows.index(b"<row", len(rows) // 2)
    for ref, rule in [
        (b'<row r="2000000"/>', "too_many_rows"),
        (b'<c r="B1048577"/>', "too_many_rows"),
        (b'<c r="ZZ7"/>', "too_many_columns"),
    ]:
        sheet = head + rows[:middle] + ref + rows[middle:] + tail
        assert _rule(_sheet_zip(sheet), limits=LABOR_LIMITS) == rule, ref


def test_a_row_number_of_thousands_of_digits_is_refused_not_a_crash() -> None:
    huge = b"9" * 5000
    sheet = b'<worksheet><sheetData><row r="1"><c r="A' + huge + b'"><v>1</v></c></row></sheetData></worksheet>'
    assert _rule(_sheet_zip(sheet)) == "too_many_rows"
    sheet = b'<worksheet><dimension ref="A1:B' + huge + b'"/><sheetData/></worksheet>'
    assert _rule(_sheet_zip(sheet)) == "too_many_rows"


@pytest.mark.parametrize(
    "ref",
    [
        b"<c r='XFD1'/>",
        b"<c r='A1048577'/>",
        b'<c r = "A1048577"/>',
        b'<c\tr="A1048577"/>',
        b'<c\nr="ZZ1"/>',
        b'<c r=\n"A1048577"/>',
        b'<x:c r="A1048577"/>',
        b"<row r='1048577'/>",
    ],
)
def test_a_far_reference_in_any_spelling_xml_allows_is_refused(monkeypatch: pytest.MonkeyPatch, ref: bytes) -> None:
    _small_blocks(monkeypatch)
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 60))
    for shift in range(0, 64, 5):
        sheet = b"<worksheet><sheetData>" + b" " * shift + rows[:700] + ref + rows[700:] + b"</sheetData></worksheet>"
        assert _rule(_sheet_zip(sheet), limits=_limits()) in {"too_many_rows", "too_many_columns"}, (shift, ref)


def test_prefixed_rows_and_cells_are_counted_once_across_block_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    _small_blocks(monkeypatch)
    rows = b"".join(
        b'<x:row r="%d"><x:c r="A%d"><x:v>1</x:v></x:c><x:c r="B%d"/></x:row>' % (i, i, i) for i in range(1, 41)
    )
    for shift in range(64):
        sheet = (
            b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
            + b" " * shift
            + rows
            + b"</x:sheetData></x:worksheet>"
        )
        data = _sheet_zip(sheet)
        check_file(data, ".xlsx", _limits(40, 200, 80))
        assert _rule(data, limits=_limits(40, 200, 79)) == "too_many_cells", shift


def test_a_single_quoted_dimension_is_read() -> None:
    sheet = b"<worksheet><dimension ref='A1:C2000000'/><sheetData/></worksheet>"
    assert _rule(_sheet_zip(sheet), limits=LABOR_LIMITS) == "too_many_rows"


def test_an_overlong_reference_across_a_block_edge_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _small_blocks(monkeypatch)
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 60))
    for shift in range(0, 700, 23):
        ref = b'<c r="A' + b"1" * 400 + b'"/>'
        sheet = b"<worksheet><sheetData>" + b" " * shift + rows[:300] + ref + rows[300:] + b"</sheetData></worksheet>"
        assert _rule(_sheet_zip(sheet), limits=_limits()) == "too_many_rows", shift


_DTD = b'<!DOCTYPE x [<!ENTITY r "<row><c><v>1</v></c></row>">]>'


@pytest.mark.parametrize(
    "part",
    [
        "xl/worksheets/sheet2.xml",
        "xl/sharedStrings.xml",
        "xl/styles.xml",
        "xl/drawings/drawing1.xml",
        "xl/comments1.xml",
        "docProps/app.xml",
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_dtd_in_any_part_is_refused(part: str, encoding: str) -> None:
    xml = '<?xml version="1.0"?>' + _DTD.decode() + "<worksheet><sheetData>&r;</sheetData></worksheet>"
    assert _rule(_sheet_zip(b"<worksheet/>", {part: xml.encode(encoding)})) == "dtd"
    assert _rule(_sheet_zip(b"<worksheet/>", {part: b"<x>" + b" " * 70_000 + _DTD + b"</x>"})) == "dtd"
    check_file(_sheet_zip(b"<worksheet/>", {part: b"<x><!-- a comment! --><![CDATA[!]]>Sheet1!A1</x>"}), ".xlsx")


def test_each_part_kind_has_its_own_inflated_cap() -> None:
    styles = b"<styleSheet>" + b"".join(b'<xf borderId="%d"/>' % i for i in range(150_000)) + b"</styleSheet>"
    assert len(styles) > REPORT_LIMITS.max_styles_bytes
    assert _rule(_sheet_zip(b"<worksheet/>", {"xl/styles.xml": styles})) == "uncompressed_size"
    check_file(_sheet_zip(b"<worksheet/>", {"xl/styles.xml": styles}), ".xlsx", LABOR_LIMITS)
    strings = b"<sst>" + b"".join(b"<si><t>%d</t></si>" % i for i in range(1_000_000)) + b"</sst>"
    assert REPORT_LIMITS.max_strings_bytes < len(strings) < LABOR_LIMITS.max_strings_bytes
    assert _rule(_sheet_zip(b"<worksheet/>", {"xl/sharedStrings.xml": strings})) == "uncompressed_size"
    check_file(_sheet_zip(b"<worksheet/>", {"xl/sharedStrings.xml": strings}), ".xlsx", LABOR_LIMITS)


@pytest.mark.parametrize(
    ("far", "limits", "refused"),
    [
        (b'<c r="GR1001"/>', REPORT_LIMITS, True),
        (b'<c r="GR999"/>', REPORT_LIMITS, False),
        (b'<c r="Z5000"/>', REPORT_LIMITS, False),
        (b'<c r="AO5000"/>', REPORT_LIMITS, True),
        (b'<c r="GR999999"/>', LABOR_LIMITS, True),
        (b'<c r="GR136000"/>', LABOR_LIMITS, False),
        (b'<c r="GR137000"/>', LABOR_LIMITS, True),
        (b'<c r="Z1048576"/>', LABOR_LIMITS, False),
    ],
)
def test_the_rectangle_from_the_first_to_the_farthest_cell_is_bounded(
    far: bytes, limits: Limits, refused: bool
) -> None:
    """Readers build every cell of that rectangle: one far row and one far column make millions from two cells."""
    sheet = b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row>' + far + b"</sheetData></worksheet>"
    if refused:
        assert _rule(_sheet_zip(sheet), limits=limits) == "too_large_grid"
    else:
        check_file(_sheet_zip(sheet), ".xlsx", limits)


def test_cells_are_counted_across_all_sheets() -> None:
    row = b"<row>" + b"<c><v>1</v></c>" * 100 + b"</row>"
    sheet = b"<worksheet><sheetData>" + row * 1_000 + b"</sheetData></worksheet>"
    small = Limits(1 << 24, 10, 1 << 24, 1 << 26, 1e9, 5_000, 200, 200_000, max_total_cells=250_000)
    check_file(_sheet_zip(sheet, {"xl/worksheets/sheet2.xml": sheet}), ".xlsx", small)
    three = {"xl/worksheets/sheet2.xml": sheet, "xl/worksheets/sheet3.xml": sheet}
    assert _rule(_sheet_zip(sheet, three), limits=small) == "too_many_cells"


def test_row_and_cell_counts_over_blocks_match_a_regex_whatever_the_edges() -> None:
    """Random tag soup cut into blocks of every small size: the block-by-block counts of <row and <c (a name then a
    byte <= ">") are exactly the regex's over the whole text, with nothing counted twice in the repeated TAIL."""
    rng = random.Random(18)
    parts = [b"<row", b"<c", b"<", b"c", b"r", b"ow", b" ", b"/", b">", b"\t", b"<rowBreaks", b"<col", b"x", b"<row/>"]
    for _ in range(400):
        text = b"".join(rng.choice(parts) for _ in range(rng.randrange(0, 400)))
        expected = (len(re.findall(rb"<row(?=[\x00->])", text)), len(re.findall(rb"<c(?=[\x00->])", text)))
        for size, step in ((300, 7), (301, 64), (1024, 1)):
            chunks = (text[i : i + step] for i in range(0, len(text), step))
            masks = scratch(size, step)
            counts = [count_rows_cells(block, seen, masks) for block, seen in blocks(chunks, size, step)]
            assert (sum(r for r, _ in counts), sum(c for _, c in counts)) == expected, (size, step, text)
