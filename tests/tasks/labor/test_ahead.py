"""The labor file read, checked and keyed ahead in a child process: the very batches the command would make itself,
the same refusals, and a child that fails or is never told a file changes nothing but the time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from config import Config
from contracts.identity import person_keys
from fupin.demo import bad_files
from fupin.demo.labor import Noise, generate_labor, write_csv, write_xlsx
from tasks.intake.archive import Received, receive_file
from tasks.labor.ahead import ReadAhead
from tasks.labor.read import LaborFileError, iter_labor
from tasks.labor.tally import LaborCheck
from tasks.labor.validate import keyed, validate_labor

KEY = b"k" * 32
SIZES = (7, 3)  # the child's batches and its first one, small enough for several of each


@pytest.fixture(scope="module")
def people(cfg: Config) -> pd.DataFrame:
    return generate_labor(
        cfg, {"朝阳区": 12, "海淀区": 9, "东城区": 5}, {}, Noise(lapsed=3, duplicates=3, invalid_ids=2), seed=5
    )


def _received(path: Path, tmp_path: Path) -> Received:
    return receive_file(path, tmp_path / "archive", 0)


def _ahead(got: Received, sizes: tuple[int, int] = SIZES) -> ReadAhead:
    ahead = ReadAhead.start()
    ahead.batch_rows, ahead.first_rows = sizes
    ahead.read(got, "people", None, KEY)
    return ahead


def _in_process(got: Received, cfg: Config) -> Iterator[LaborCheck]:
    for frame in iter_labor(got.path, cfg, "people", *SIZES):
        yield keyed(validate_labor(frame, cfg), KEY, cfg)


def _same(a: LaborCheck, b: LaborCheck) -> None:
    for part in ("valid", "failures", "duplicates"):
        pd.testing.assert_frame_equal(getattr(a, part), getattr(b, part))
    assert a.n_rows == b.n_rows
    assert a.person_keys is not None and b.person_keys is not None
    assert a.person_keys.tolist() == b.person_keys.tolist()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_childs_batches_are_the_in_process_ones(
    people: pd.DataFrame, cfg: Config, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"people{suffix}"
    (write_csv if suffix == ".csv" else write_xlsx)(people, path)
    got = _received(path, tmp_path)
    with _ahead(got) as ahead:
        batches = list(ahead.checks())
        assert ahead.complete
        assert list(ahead.checks()) == [], "the child's batches are given once: a retry reads in-process"
    expected = list(_in_process(got, cfg))
    assert len(batches) == len(expected) > 3
    for child, here in zip(batches, expected, strict=True):
        _same(child, here)
        assert child.person_keys is not None
        assert child.person_keys.tolist() == person_keys(child.valid["id_number"], KEY).tolist(), "the load's keys"
    assert sum(c.n_rows for c in batches) == len(people)


def test_a_refused_file_comes_back_as_the_in_process_refusal(people: pd.DataFrame, cfg: Config, tmp_path: Path) -> None:
    headless = write_csv(people.drop(columns=["公民身份号码"]), tmp_path / "headless.csv")
    bomb = bad_files.bomb(tmp_path / "labor_bomb.xlsx")
    for path in (headless, bomb):
        got = _received(path, tmp_path)
        with pytest.raises(LaborFileError) as here:
            list(_in_process(got, cfg))
        with _ahead(got) as ahead, pytest.raises(LaborFileError) as child:
            list(ahead.checks())
        assert (str(child.value), child.value.rule) == (str(here.value), here.value.rule), path.name


def test_a_child_killed_midway_stops_its_batches_early(people: pd.DataFrame, tmp_path: Path) -> None:
    got = _received(write_csv(people, tmp_path / "people.csv"), tmp_path)
    with _ahead(got, (2, 1)) as ahead:
        child = ahead._proc
        assert child is not None
        stream = ahead.checks()
        first = next(stream)
        child.kill()
        rest = list(stream)  # what was already in the pipe, then nothing
        assert not ahead.complete
    assert first.n_rows == 1
    assert 1 + len(rest) < -(-len(people) // 2), "the child could not have given every batch"


def test_a_child_never_told_a_file_ends_quietly(tmp_path: Path) -> None:
    ahead = ReadAhead.start()
    ahead.close()
    assert list(ahead.checks()) == []
    with ReadAhead.start() as untold:
        assert list(untold.checks()) == [], "no file told: no batch, whatever the child does"
