"""Every hostile or broken report file is rejected with a located reason, kept in quarantine, and changes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fupin.demo import bad_files, bad_files_parse
from tests.reliability.conftest import drop, facts, submissions

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, cfg) -> tuple[Path, list[bad_files.BadFile]]:
    out = tmp_path_factory.mktemp("bad")
    return out, bad_files.make_all(cfg, out)


def test_bad_report_files_rejected_kept_and_harmless(made, cfg, prefect_api, fupin_home, home_engine) -> None:
    from flows.ingest_file import ingest_file

    out, files = made
    inbox = fupin_home / "inbox"
    assert ingest_file(str(drop(out / "good.xlsx", inbox)))["status"] == "accepted"
    before = facts(home_engine)
    for f in [f for f in files if f.kind == "report" and f.rule]:
        state = ingest_file(str(drop(out / f.name, inbox)), return_state=True)
        assert state.is_failed(), f.name
        assert "rejected" in state.message, (f.name, state.message)
        row = submissions(home_engine)[-1]
        assert row.status == "rejected" and row.original_name == f.name
        folder = fupin_home / "quarantine" / row.sha256[:16]
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        rules = [i["rule"] for i in report["issues"]]
        assert f.rule in rules, (f.name, rules)
        kept = [p for p in folder.iterdir() if p.read_bytes() == (out / f.name).read_bytes()]
        assert kept, f"{f.name}: original bytes not in quarantine"
        assert (folder / "report.txt").read_text(encoding="utf-8").strip()
        assert facts(home_engine) == before, f"{f.name} changed the warehouse"
    after = ingest_file(str(drop(out / "formula_text.xlsx", inbox)))
    assert after["status"] == "accepted"
    remarks = {r[-1] for r in facts(home_engine) if r[-1]}
    assert {bad_files.HYPERLINK, bad_files.DDE} <= remarks, "formula-looking text must be stored as text"


def test_a_file_that_breaks_the_parser_is_recorded_once_not_retried(
    cfg, prefect_api, fupin_home, home_engine, tmp_path
) -> None:
    """=() crashed the old evaluator before any row existed, so every hourly sweep ran the file again."""
    from flows.ingest_file import ingest_file
    from tasks.intake.scan import new_inbox_files
    from tasks.report.workbook import SUFFIXES

    inbox = fupin_home / "inbox"
    path = drop(bad_files_parse.formula_report(cfg, tmp_path / "parens.xlsx", {(1, cfg.total_column): "=()"}), inbox)
    assert new_inbox_files(inbox, fupin_home / "archive", home_engine, SUFFIXES).files == [path]
    state = ingest_file(str(path), return_state=True)
    assert state.is_failed() and "rejected" in state.message and "Traceback" not in state.message
    row = submissions(home_engine)[-1]
    assert row.status == "rejected" and "enter a number" in row.message
    again = shutil.copy(inbox / "rejected" / path.name, inbox / "same-bytes.xlsx")
    scan = new_inbox_files(inbox, fupin_home / "archive", home_engine, SUFFIXES)
    assert scan.files == [] and scan.finished == {Path(again): "rejected"}, "a recorded rejection is not run again"


def test_macro_workbook_values_taken_nothing_run(made, prefect_api, fupin_home, home_engine) -> None:
    from flows.ingest_file import ingest_file

    out, _ = made
    result = ingest_file(str(drop(out / "macros.xlsm", fupin_home / "inbox")))
    assert result["status"] == "accepted" and len(facts(home_engine)) > 0


def test_formula_text_stays_text_in_the_workbook_we_send_back(
    cfg, prefect_api, fupin_home, home_engine, tmp_path
) -> None:
    from openpyxl import load_workbook

    from flows.ingest_file import ingest_file

    path = bad_files.formula_text_in_figure(cfg, tmp_path / "dde.xlsx")
    assert ingest_file(str(drop(path, fupin_home / "inbox")), return_state=True).is_failed()
    marked = next((fupin_home / "quarantine").rglob("*_标注.xlsx"))
    cells = [
        c
        for ws in load_workbook(marked).worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert cells and all(c.data_type == "s" for c in cells), [(c.coordinate, c.data_type) for c in cells]
