"""Processed inbox files leave the inbox for done/ or rejected/, their unit folder kept; other files stay put."""

from __future__ import annotations

from pathlib import Path

from tasks.intake.provenance import folder_unit, inbox_source
from tasks.intake.settle import settle_file


def _file(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_accepted_and_rejected_files_move_with_their_unit_folder(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    good = settle_file(_file(inbox / "a.xlsx"), inbox, accepted=True)
    bad = settle_file(_file(inbox / "dongcheng" / "b.xlsx"), inbox, accepted=False)
    assert good == inbox / "done" / "a.xlsx" and good.read_text() == "x"
    assert bad == inbox / "rejected" / "dongcheng" / "b.xlsx"
    assert not (inbox / "a.xlsx").exists() and not (inbox / "dongcheng" / "b.xlsx").exists()
    assert folder_unit(bad, inbox) == "dongcheng", "a settled file still tells which unit's folder it came from"
    assert inbox_source(bad, inbox) == "inbox:dongcheng/b.xlsx"


def test_a_retried_file_moves_from_rejected_to_done_and_names_never_collide(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    first = settle_file(_file(inbox / "r.xlsx", "v1"), inbox, accepted=False)
    assert settle_file(first, inbox, accepted=False) == first, "settling again in place is a no-op"
    again = settle_file(_file(inbox / "r.xlsx", "v2"), inbox, accepted=False)
    assert again == inbox / "rejected" / "r.2.xlsx" and first.read_text() == "v1" and again.read_text() == "v2"
    done = settle_file(first, inbox, accepted=True)
    assert done == inbox / "done" / "r.xlsx" and not first.exists()


def test_a_file_outside_the_inbox_stays_where_it_is(tmp_path: Path) -> None:
    given = _file(tmp_path / "elsewhere" / "c.xlsx")
    assert settle_file(given, tmp_path / "inbox", accepted=True) == given and given.exists()
