"""`fupin list-passwords` prints the districts' list passwords from FUPIN_HOME/secrets/ (made once), for the phone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from config import Config
from tasks.mail.locked_lists import PASSWORD_FILE


def test_it_prints_the_kept_passwords_and_refuses_an_unknown_district(
    cli: Callable[..., int], fupin_home: Path, cfg: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("list-passwords") == 0
    out = capsys.readouterr().out
    kept = json.loads((fupin_home / "secrets" / PASSWORD_FILE).read_text(encoding="utf-8"))
    assert set(kept) == {u.code for u in cfg.districts}
    assert all(password in out for password in kept.values())

    assert cli("list-passwords", "--district", "朝阳区") == 0
    out = capsys.readouterr().out
    assert kept["chaoyang"] in out and kept["haidian"] not in out
    assert cli("list-passwords", "--district", "nowhere") == 2
