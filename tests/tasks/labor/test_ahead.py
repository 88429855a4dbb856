"""The workbook's safety pass run ahead in a child process: its word counts only for the bytes it read, says the same
refusal as the pass in-process, and anything else leaves the decision to the pass run again in-process."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from config import Config
from fupin.demo import bad_files, bad_files_parse
from fupin.demo.labor import generate_labor, write_xlsx
from tasks.intake.safety import LABOR_LIMITS, UnsafeFileError, check_file
from tasks.labor.ahead import CheckedAhead
from tasks.labor.read import LaborFileError, empty_batch, iter_labor, read_labor
from tasks.labor.validate import validate_labor, warm_up


@pytest.fixture(scope="module")
def good(cfg: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    people = generate_labor(cfg, by_district={cfg.districts[0].name: 30}, by_paired_county={})
    return write_xlsx(people, tmp_path_factory.mktemp("ahead") / "good.xlsx")


def _in_process(path: Path) -> tuple[str, str, str, str | None]:
    with pytest.raises(UnsafeFileError) as info:
        check_file(path.read_bytes(), path.suffix, LABOR_LIMITS)
    return info.value.rule, info.value.zh, info.value.en, info.value.member


def test_a_good_workbook_is_passed_for_its_own_bytes_only(good: Path) -> None:
    data = good.read_bytes()
    with CheckedAhead.start(good) as ahead:
        assert ahead.verdict(data) is True
        assert ahead.verdict(data) is False, "one word per child: a second read is checked in-process"
    with CheckedAhead.start(good) as ahead:
        assert ahead.verdict(data + b"\0") is False, "other bytes than the child read: no word on them"


@pytest.mark.parametrize("make", ["bomb", "far_corners", "strings_bomb"])
def test_a_hostile_workbook_is_refused_with_the_in_process_rule(cfg: Config, tmp_path: Path, make: str) -> None:
    path = tmp_path / f"labor_{make}.xlsx"
    if make == "bomb":
        bad_files.bomb(path)
    elif make == "far_corners":
        bad_files_parse.labor_far_corners(cfg, path)
    else:
        bad_files_parse.strings_bomb(cfg, path)
    refusal = _in_process(path)
    with CheckedAhead.start(path) as ahead, pytest.raises(UnsafeFileError) as info:
        ahead.verdict(path.read_bytes())
    assert (info.value.rule, info.value.zh, info.value.en, info.value.member) == refusal
    with CheckedAhead.start(path) as ahead, pytest.raises(LaborFileError) as read:
        list(iter_labor(path, cfg, ahead=ahead))
    assert read.value.rule == refusal[0]


def test_no_word_leaves_the_check_in_process(cfg: Config, good: Path, tmp_path: Path) -> None:
    """A file changed after the child read it, a missing file, a symlink (refused unread) or a CSV: no word; the
    reader then checks the bytes itself, so a hostile workbook is still refused."""
    hostile = bad_files.bomb(tmp_path / "labor_bomb.xlsx")
    swapped = tmp_path / "swapped.xlsx"
    swapped.write_bytes(good.read_bytes())
    with CheckedAhead.start(swapped) as ahead:
        assert ahead.verdict(good.read_bytes()) is True
    with CheckedAhead.start(swapped) as ahead:
        while ahead.running():
            time.sleep(0.01)
        swapped.write_bytes(hostile.read_bytes())  # after the child passed the good bytes
        with pytest.raises(LaborFileError) as read:
            list(iter_labor(swapped, cfg, ahead=ahead))
    assert read.value.rule == _in_process(hostile)[0]
    link = tmp_path / "link.xlsx"
    os.symlink(good, link)
    for path in (tmp_path / "missing.xlsx", link, tmp_path / "people.csv"):
        with CheckedAhead.start(path) as ahead:
            assert ahead.verdict(good.read_bytes()) is False, path.name


def test_a_workbook_checked_ahead_reads_as_without(cfg: Config, good: Path) -> None:
    with CheckedAhead.start(good) as ahead:
        batches = list(iter_labor(good, cfg, ahead=ahead))
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), read_labor(good, cfg))


def test_leaving_ends_a_child_still_at_work(good: Path) -> None:
    ahead = CheckedAhead.start(good)
    ahead.close()
    assert ahead.verdict(good.read_bytes()) is False


def test_the_warm_up_batch_is_empty_and_valid(cfg: Config) -> None:
    """What the command validates while the child works: no rows, the reader's columns and types, no failure."""
    check = validate_labor(empty_batch(cfg), cfg)
    assert (check.n_rows, len(check.valid), len(check.failures), len(check.duplicates)) == (0, 0, 0, 0)
    assert list(empty_batch(cfg).columns) == ["source_row", *cfg.labor.columns]
    warm_up(cfg)
