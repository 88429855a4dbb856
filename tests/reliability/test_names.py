"""File names from outside: ../, backslashes, control characters, full-width text and very long names are stored
under a safe name inside FUPIN_HOME, and a file with such a name goes through the whole flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.messages import make_issue
from fupin.demo import bad_files
from tasks.intake.archive import MAX_NAME_BYTES, quarantine_file, safe_name
from tests.reliability.conftest import drop, submissions

HOSTILE = [
    "../../../../tmp/evil.xlsx",
    "..",
    "a/../../b.xlsx",
    "..\\..\\win.xlsx",
    "\x00x\n.xlsx",
    "𠀀" * 200 + ".xlsx",
    "很长的文件名" * 40 + ".xlsx",
    "朝阳区 2020年9月\u3000报表（最终版）.xlsx",
    "CON.xlsx",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_quarantine_keeps_hostile_names_inside_its_folder(name: str, tmp_path: Path) -> None:
    root = tmp_path / "quarantine"
    issue = make_issue("no_table", name, total="合计")
    folder = quarantine_file(b"not a workbook", name, root, [issue], {})
    assert folder.parent == root
    written = list(folder.iterdir())
    assert all(p.parent == folder and len(p.name.encode()) <= MAX_NAME_BYTES + 20 for p in written)
    assert any(p.read_bytes() == b"not a workbook" for p in written)
    assert not list(tmp_path.glob("*.xlsx")) and not Path("/tmp/evil.xlsx").exists()
    assert "/" not in safe_name(name) and safe_name(name) not in ("", ".", "..")


@pytest.mark.prefect
def test_hostile_names_go_through_the_flow(cfg, prefect_api, fupin_home: Path, home_engine, tmp_path: Path) -> None:
    from flows.ingest_file import ingest_file

    src = bad_files.good_report(cfg, tmp_path / "good.xlsx")
    for n, name in enumerate(bad_files.HOSTILE_NAMES):
        path = drop(src, fupin_home / "inbox", name)
        path.write_bytes(path.read_bytes() + b"\0" * n)  # distinct bytes, so each is its own submission
        state = ingest_file(str(path), return_state=True)
        assert submissions(home_engine)[-1].original_name == name, (name, state.message)
    inside = {p.resolve() for p in fupin_home.rglob("*")}
    outside = [p for p in tmp_path.rglob("*") if p.resolve() not in inside and fupin_home not in p.parents]
    assert {p.name for p in outside if p.is_file()} == {"good.xlsx"}
