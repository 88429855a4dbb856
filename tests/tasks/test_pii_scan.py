"""The personal-data scanner finds identity numbers, names and secrets in text, workbooks and e-mails."""
from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path

import xlsxwriter

from tasks.pii_scan import Needles, scan_text, scan_tree, texts_of_bytes

ID = "11010519491231002X"
NEEDLES = Needles(frozenset({"王建国"}), ("s3cret-value",))


def _xlsx(text: str) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.add_worksheet("名单").write_string(0, 0, text)
    book.close()
    return buf.getvalue()


def test_scan_text_finds_and_masks() -> None:
    found = list(scan_text(f"身份证 {ID}，姓名王建国，key=s3cret-value", "x", NEEDLES))
    assert [f.kind for f in found] == ["id_number", "name", "secret"]
    assert ID not in repr(found) and "王建国" not in repr(found) and "s3cret-value" not in repr(found)
    assert list(scan_text("110105********002X 王** 2020年9月 12345678901234567890", "x", NEEDLES)) == []


def test_workbook_and_mail_attachment_are_opened(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["To"] = "名单", "a@example.org"
    msg.set_content("见附件")
    msg.add_attachment(_xlsx(f"王建国 {ID}"), maintype="application", subtype="octet-stream", filename="名单.xlsx")
    (tmp_path / "m.eml").write_bytes(bytes(msg))
    (tmp_path / "clean.txt").write_text("nothing here", encoding="utf-8")
    kinds = sorted(f.kind for f in scan_tree(tmp_path, NEEDLES))
    assert kinds == ["id_number", "name"]
    assert [w for w, _ in texts_of_bytes(_xlsx("x"), "a.xlsx") if "sheet1.xml" in w]
