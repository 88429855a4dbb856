"""`fupin targets` and `fupin targets set`: the 2019 baselines entered in a copy of config/, comments kept, bad input
refused with exit 2 and the file left as it was; the next workbook measures progress against what was entered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config import CONFIG_DIR, load_config
from tasks.publish.targets import BASELINE_MISSING, target_rows
from tests.publish_fixture import MONTH


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("FUPIN_CONFIG_DIR", str(folder))
    return folder


def test_set_enters_a_baseline_and_keeps_the_files_comments(cli, config_copy: Path, capsys) -> None:
    before = (config_copy / "targets.yaml").read_text(encoding="utf-8")
    assert cli("targets", "set", "employment_vs_2019", "poor_employed_in_beijing", "186,374") == 0
    assert cli("targets", "set", "donations_vs_2019", "donations_money", "12.5") == 0
    after = (config_copy / "targets.yaml").read_text(encoding="utf-8")
    assert after.splitlines()[0] == before.splitlines()[0] and after.count("#") == before.count("#")
    cfg = load_config(config_copy)
    baselines = {t.code: t.baseline_2019 for t in cfg.targets}
    assert baselines["employment_vs_2019"] == {"poor_employed_in_beijing": 186374}
    assert baselines["donations_vs_2019"] == {"donations_money": 12.5}
    capsys.readouterr()
    assert cli("targets") == 0
    listing = capsys.readouterr().out
    assert "186374" in listing and "待录入" in listing


@pytest.mark.parametrize(
    "args",
    [
        ("no_such_target", "poor_employed", "1"),
        ("employment_vs_2019", "donations_money", "1"),  # a concept of another target
        ("consumption_aid_2020", "consumption_aid_amount", "1"),  # a target with no 2019 baseline
        ("employment_vs_2019", "poor_employed", "many"),
        ("employment_vs_2019", "poor_employed", "-5"),
        ("employment_vs_2019", "poor_employed", "nan"),
    ],
)
def test_a_bad_code_concept_or_value_is_exit_2_and_leaves_the_file(cli, config_copy: Path, capsys, args) -> None:
    before = (config_copy / "targets.yaml").read_bytes()
    assert cli("targets", "set", "--", *args) == 2
    assert (config_copy / "targets.yaml").read_bytes() == before
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_workbook_measures_progress_against_an_entered_baseline(cli, config_copy: Path) -> None:
    import pandas as pd

    assert cli("targets", "set", "employment_vs_2019", "poor_employed_in_beijing", "1000") == 0
    cfg = load_config(config_copy)
    [ind] = [i for i in cfg.concepts["poor_employed_in_beijing"] if i.form_code == "表1"]
    current = pd.DataFrame(
        {"form_code": ["表1"], "row_no": [ind.row_no], "region": [cfg.total_column], "value": [250.0]}
    )
    rows = target_rows(cfg, current, MONTH).set_index("indicator")
    entered = rows.loc[ind.indicator]
    assert entered["progress"] == pytest.approx(0.25) and entered["basis"] == "2019年实际完成量"
    assert entered["note"] == "" and entered["measure_unit"] == "人"
    others = rows[rows["basis"] == "2019年实际完成量"].drop(index=ind.indicator)
    assert (others["note"] == BASELINE_MISSING).all() and others["progress"].isna().all()
