"""The PII key: read from FUPIN_PII_KEY or FUPIN_PII_KEY_FILE, at least 32 bytes, remembered by its fingerprint; a
different key is refused, and `fupin rekey` moves every stored person to a new key in one transaction."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from config import Config
from fupin import cli
from fupin.demo.labor import generate_labor, write_csv
from tasks.labor.key import fingerprint

pytestmark = pytest.mark.prefect
KEY_A, KEY_B = "a" * 16 + "-first-key-0123456789", "b" * 16 + "-second-key-0123456789"


def _cli(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["fupin", *args])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    return exit_.value.code


def _month(cfg: Config, tmp_path: Path, month: str, lose: int = 0) -> Path:
    """The same 48 people every month (seeded), less the last `lose`: retention then keeps 48 - lose."""
    people = generate_labor(cfg, {u.name: 3 for u in cfg.districts}, {}, seed=5)
    return write_csv(people.iloc[: len(people) - lose], tmp_path / f"{month}.csv")


def _state(engine: Engine) -> tuple:
    with engine.connect() as conn:
        keys = sorted(conn.execute(text("SELECT submission_id, source_row, person_key FROM restricted_labor_person")))
        kept = conn.execute(text("SELECT sum(kept) FROM v_labor_retention WHERE month = '2020-08'")).scalar_one()
        stored = conn.execute(text("SELECT fingerprint FROM restricted_pii_key")).scalars().all()
    return [(s, r, bytes(k)) for s, r, k in keys], kept, stored


def test_without_a_key_one_line_exit_2_and_no_run(prefect_api, fupin_home, cfg, monkeypatch, capfd, tmp_path) -> None:
    path = _month(cfg, tmp_path, "2020-07")
    monkeypatch.delenv("FUPIN_PII_KEY")
    assert _cli(monkeypatch, "labor", str(path), "--month", "2020-07") == 2
    err = capfd.readouterr().err
    assert "FUPIN_PII_KEY_FILE" in err and "Traceback" not in err and err.count("error:") == 1
    monkeypatch.setenv("FUPIN_PII_KEY", "short")
    assert _cli(monkeypatch, "labor", str(path), "--month", "2020-07") == 2
    err = capfd.readouterr().err
    assert "at least 32" in err and "Traceback" not in err and "short" not in err
    assert not (fupin_home / "archive").exists() or not any((fupin_home / "archive").rglob("*.csv"))


def test_a_different_key_is_refused_and_rekey_moves_everyone_in_one_transaction(
    prefect_api, fupin_home, cfg, warehouse_url, engine, monkeypatch, capfd, tmp_path
) -> None:
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("FUPIN_PII_KEY", KEY_A)
    assert _cli(monkeypatch, "labor", str(_month(cfg, tmp_path, "2020-07")), "--month", "2020-07") == 0
    assert _cli(monkeypatch, "labor", str(_month(cfg, tmp_path, "2020-08", lose=5)), "--month", "2020-08") == 0
    before = _state(engine)
    assert before[1] == 43 and before[2] == [fingerprint(KEY_A.encode())]

    monkeypatch.setenv("FUPIN_PII_KEY", KEY_B)
    assert _cli(monkeypatch, "labor", str(_month(cfg, tmp_path, "2020-09")), "--month", "2020-09") == 2
    err = capfd.readouterr().err
    assert "fupin rekey" in err and "Traceback" not in err and KEY_A not in err and KEY_B not in err
    assert _state(engine) == before, "a refused key loads nothing"

    new_key, wrong_old = tmp_path / "new.key", tmp_path / "wrong.key"
    new_key.write_text(KEY_B + "\n", encoding="ascii")
    wrong_old.write_text("c" * 40, encoding="ascii")
    assert _cli(monkeypatch, "rekey", "--old-key-file", str(wrong_old), "--new-key-file", str(new_key)) == 2
    assert _state(engine) == before
    archived = sorted((fupin_home / "archive").rglob("*.csv"))
    saved = archived[-1].read_bytes()
    archived[-1].chmod(0o640)
    archived[-1].write_bytes(saved.replace(b"\n", b"\r\n", 3)[:-200])  # the later file no longer matches
    monkeypatch.setenv("FUPIN_PII_KEY", KEY_A)
    assert _cli(monkeypatch, "rekey", "--new-key-file", str(new_key)) != 0
    assert _state(engine) == before, "a failure half-way rolls every file back"
    archived[-1].write_bytes(saved)

    assert _cli(monkeypatch, "rekey", "--new-key-file", str(new_key)) == 0
    after = _state(engine)
    assert after[1] == 43 and after[2] == [fingerprint(KEY_B.encode())]
    assert [k[:2] for k in after[0]] == [k[:2] for k in before[0]] and not {k[2] for k in after[0]} & {
        k[2] for k in before[0]
    }
    monkeypatch.setenv("FUPIN_PII_KEY", KEY_A)
    assert _cli(monkeypatch, "labor", str(_month(cfg, tmp_path, "2020-09")), "--month", "2020-09") == 2
    monkeypatch.setenv("FUPIN_PII_KEY", KEY_B)
    assert _cli(monkeypatch, "labor", str(_month(cfg, tmp_path, "2020-09", lose=1)), "--month", "2020-09") == 0
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT sum(kept) FROM v_labor_retention WHERE month = '2020-09'")).scalar_one()
    assert kept == 43, "people keyed before and after the new key are still the same people"
