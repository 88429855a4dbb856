"""Archive and quarantine: content-addressed, read-only, never overwritten; outside names made safe."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.messages import make_issue
from tasks.intake.archive import (
    _temp_prefix,
    archive_file,
    first_seen,
    quarantine_file,
    receive_file,
    safe_name,
    sha256_of,
    sweep_dead_temps,
)
from tasks.intake.received import RefusedFile


@pytest.mark.parametrize(
    "name, safe",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("朝阳区 9月.xlsx", "朝阳区 9月.xlsx"),
        ("a:b*c?.xlsx", "a_b_c_.xlsx"),
        ("..", "file"),
        ("x" * 300 + ".xlsx", "x" * 75 + ".xlsx"),
    ],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


def test_archive_is_content_addressed_read_only_and_written_once(tmp_path: Path) -> None:
    data = b"PK\x03\x04 pretend workbook"
    path = archive_file(data, ".XLSX", tmp_path)
    sha = sha256_of(data)
    assert path == tmp_path / sha[:2] / f"{sha}.xlsx" and path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert archive_file(data, ".xlsx", tmp_path) == path
    assert archive_file(data, "/../../x", tmp_path) == tmp_path / sha[:2] / sha  # an odd suffix is dropped
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted([path.name, sha, f"{sha}.first-seen"])


def test_quarantine_of_a_non_workbook_still_gives_the_problem_list(tmp_path: Path) -> None:
    issue = make_issue("no_table", "../evil.txt", total="合计")
    folder = quarantine_file(b"not a workbook", "../evil.txt", tmp_path, [issue], {"unit": None})
    assert folder.parent == tmp_path
    assert sorted(p.name for p in folder.iterdir()) == ["evil.txt", "evil_标注.xlsx", "report.json", "report.txt"]
    assert issue.message_en in (folder / "report.txt").read_text()


def test_a_dead_writers_temp_copy_is_swept_and_a_live_or_foreign_one_kept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    host = _temp_prefix().split("-")[1]
    left = {
        name: tmp_path / name
        for name in (f".tmp-{host}-{dead}-abc", f"{_temp_prefix()}def", f".tmp-otherhost-{dead}-ghi")
    }
    for path in left.values():
        path.write_bytes(b"half a file")
    assert sweep_dead_temps(tmp_path) == [left[f".tmp-{host}-{dead}-abc"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(list(left)[1:])


def test_receive_streams_once_keeps_small_bytes_and_the_first_sighting(tmp_path: Path) -> None:
    archive, src = tmp_path / "archive", tmp_path / "r.xlsx"
    src.write_bytes(b"x" * 3000)
    os.utime(src, (1.9e9, 1.9e9))  # the sender's clock says 2030
    small = receive_file(src, archive, 4096)
    assert small.data == src.read_bytes() and small.size == 3000 and small.sha256 == sha256_of(small.data)
    assert small.first_seen.year < 2030 and stat.S_IMODE(small.path.stat().st_mode) == 0o400
    assert receive_file(src, archive, 4096).first_seen == small.first_seen == first_seen(small.path)
    big = receive_file(src, archive, 2999)
    assert big.data is None and big.path == small.path and not list(archive.glob(".tmp-*"))


def test_receive_refuses_a_symlink_unread(tmp_path: Path) -> None:
    (tmp_path / "link.xlsx").symlink_to("/etc/passwd")
    with pytest.raises(RefusedFile, match="symbolic link"):
        receive_file(tmp_path / "link.xlsx", tmp_path / "archive", 1 << 20)
    assert not (tmp_path / "archive").exists() or not any((tmp_path / "archive").rglob("*"))


def test_quarantine_links_the_archive_copy_instead_of_copying(tmp_path: Path) -> None:
    (tmp_path / "big.xlsx").write_bytes(b"y" * 5000)
    got = receive_file(tmp_path / "big.xlsx", tmp_path / "home" / "archive", 100)
    issue = make_issue("no_table", "big.xlsx", total="合计")
    folder = quarantine_file(got.data, "big.xlsx", tmp_path / "home" / "quarantine", [issue], {}, archived=got.path)
    assert (folder / "big.xlsx").stat().st_ino == got.path.stat().st_ino
    report = json.loads((folder / "report.json").read_text())
    assert report["archive"] == str(got.path.relative_to(tmp_path / "home")) and report["original"] == "big.xlsx"
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.name != "big.xlsx"} == {0o600}
