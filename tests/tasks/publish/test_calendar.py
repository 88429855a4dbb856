"""The deadline calendar: reminders and the close move to the working day before a holiday or weekend, following the
official 调休 (chinesecalendar), or config/calendar.yaml's own table; a year neither covers fails loudly."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from config import CONFIG_DIR, Config, load_config
from config.workdays import CalendarGap, is_working_day
from core.month import Month
from tasks.publish.close import close_due, due_month

D = dt.date.fromisoformat


def _never(_: Month) -> bool:
    return False


def _always(_: Month) -> bool:
    return True


@pytest.mark.parametrize(
    ("today", "due"),
    [
        ("2020-09-29", None),
        ("2020-09-30", "2020-09"),  # Golden Week: 7 October is a holiday, the last working day before it is 30 Sept
        ("2020-10-07", "2020-09"),  # the schedule's own day still acts if the moved day was missed
        ("2020-10-08", None),  # after the set day: nothing
        ("2019-02-02", None),
        ("2019-02-03", "2019-01"),  # Spring Festival 2019: 4-10 Feb off, Sunday 3 Feb a working day (调休)
        ("2021-02-07", "2021-01"),  # a Sunday, but a working day (调休) before Spring Festival 2021: no move
        ("2021-02-05", None),
    ],
)
def test_reminders_move_to_the_working_day_before(cfg: Config, today: str, due: str | None) -> None:
    assert due_month(cfg, D(today), cfg.calendar.reminder_day, _never) == due


def test_a_moved_day_that_was_acted_on_is_not_acted_on_again(cfg: Config) -> None:
    assert due_month(cfg, D("2020-09-30"), cfg.calendar.reminder_day, _always) == "2020-09"  # its own day: always
    assert due_month(cfg, D("2020-10-07"), cfg.calendar.reminder_day, _always) is None


@pytest.mark.parametrize(
    ("today", "due"),
    [
        ("2020-10-09", "2020-09"),  # after Golden Week 2020, a Friday
        ("2021-10-09", "2021-09"),  # a Saturday, but a working day (调休) after Golden Week 2021
        ("2021-01-08", "2020-12"),  # 9 January 2021 is a Saturday: the Friday before
        ("2021-01-09", "2020-12"),  # ... a run on the Saturday itself catches up
        ("2019-02-03", "2019-01"),  # Spring Festival 2019
        ("2019-02-08", None),  # in the holiday, after the moved day was done
    ],
)
def test_the_close_moves_the_same_way(cfg: Config, today: str, due: str | None) -> None:
    closed = (lambda m: True) if today == "2019-02-08" else _never
    assert close_due(cfg, D(today), closed) == due


def _config_with(tmp_path: Path, working_days: dict) -> Config:
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    cal = yaml.safe_load((folder / "calendar.yaml").read_text(encoding="utf-8"))
    cal["working_days"] = working_days
    (folder / "calendar.yaml").write_text(yaml.safe_dump(cal, allow_unicode=True), encoding="utf-8")
    return load_config(folder)


def test_a_year_no_calendar_covers_fails_loudly(cfg: Config) -> None:
    with pytest.raises(CalendarGap, match="2031") as gap:
        due_month(cfg, D("2031-01-06"), cfg.calendar.reminder_day, _never)
    assert gap.value.exit_code == 3


def test_the_offices_table_covers_later_years_and_wins_over_chinesecalendar(cfg: Config, tmp_path: Path) -> None:
    own = _config_with(
        tmp_path,
        {"declared_years": [2031], "days_off": ["2031-01-07", "2020-09-30"], "days_on": ["2031-01-05"]},
    )
    assert [is_working_day(own.calendar, D(d)) for d in ("2031-01-07", "2031-01-05", "2031-01-06")] == [
        False,
        True,  # a Sunday the office works
        True,
    ]
    assert due_month(own, D("2031-01-06"), own.calendar.reminder_day, _never) == "2030-12"
    # The office's own exception moves Golden Week 2020's reminder one day further back.
    assert own.action_day("2020-09", own.calendar.reminder_day) == D("2020-09-29")
    assert is_working_day(cfg.calendar, D("2020-09-30"))
