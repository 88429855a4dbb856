"""Encrypted district lists: they open with the district's password and not without it; the passwords are made once,
kept owner-only, and differ between districts."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import msoffcrypto
import openpyxl
import pytest
from openpyxl import Workbook

from tasks.mail.locked_lists import ALPHABET, PASSWORD_FILE, encrypt_xlsx, list_passwords

NAME, ID_NUMBER = "张小明", "11010519491231002X"


def _plain_list() -> bytes:
    wb = Workbook()
    wb.active.append(["姓名", "公民身份号码(脱敏)"])
    wb.active.append([NAME, ID_NUMBER])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def decrypt(data: bytes, password: str) -> bytes:
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    office.load_key(password=password)
    out = io.BytesIO()
    office.decrypt(out)
    return out.getvalue()


def test_an_encrypted_list_opens_with_its_password_and_not_without(tmp_path: Path) -> None:
    [password] = list_passwords(tmp_path / "secrets", ["chaoyang"]).values()
    locked = encrypt_xlsx(_plain_list(), password)
    assert NAME.encode("utf-8") not in locked and ID_NUMBER.encode() not in locked
    office = msoffcrypto.OfficeFile(io.BytesIO(locked))
    assert office.is_encrypted() and office.type == "agile"  # ECMA-376 Agile, as Excel writes
    with pytest.raises(Exception, match="(?i)zip"):
        openpyxl.load_workbook(io.BytesIO(locked))  # without the password it is no workbook at all
    with pytest.raises(msoffcrypto.exceptions.InvalidKeyError):
        decrypt(locked, "WRONG-PASS-WORD-0000")
    sheet = openpyxl.load_workbook(io.BytesIO(decrypt(locked, password))).active
    assert [c.value for c in sheet[2]] == [NAME, ID_NUMBER]


def test_passwords_are_made_once_per_district_and_kept_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    first = list_passwords(folder, ["chaoyang", "haidian"])
    kept = list_passwords(folder, ["haidian", "chaoyang", "dongcheng"])
    assert {code: kept[code] for code in first} == first and len(set(kept.values())) == 3
    for password in kept.values():
        groups = password.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4] and set("".join(groups)) <= set(ALPHABET)
    assert stat.S_IMODE((folder / PASSWORD_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
