"""A submission on the platform mails its unit the receipt or rejection report at once, over real SMTP, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.smtp_capture import Capture, plain_server
from tests.web import workbooks
from tests.web.conftest import Platform


@pytest.fixture
def smtp(fupin_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Capture]:
    """Requested before `platform`, whose settings are read when it starts."""
    for server in plain_server():
        monkeypatch.setenv("FUPIN_SMTP_HOST", server.host)
        monkeypatch.setenv("FUPIN_SMTP_PORT", str(server.port))
        yield server.capture


def test_a_web_submission_mails_its_unit_once(smtp: Capture, platform: Platform, tmp_path: Path) -> None:
    cfg = platform.rt.config
    unit = cfg.unit("chaoyang")
    client = platform.signed_in("cy-clerk")
    wrong, _ = workbooks.wrong_total(cfg, "chaoyang", tmp_path)
    assert client.post("/api/submissions", files={"file": ("朝阳区.xlsx", wrong)}).status_code == 422
    good = workbooks.valid(cfg, "chaoyang", tmp_path)
    assert client.post("/api/submissions", files={"file": ("朝阳区9月.xlsx", good)}).status_code == 201

    assert [(m["To"], str(m["Subject"]).split("] ", 1)[1][:4]) for m in smtp.messages] == [
        (unit.email, "【退回】"),
        (unit.email, "【回执】"),
    ]
    assert client.post("/api/submissions", files={"file": ("again.xlsx", good)}).status_code == 200
    assert client.post("/api/submissions", files={"file": ("again.xlsx", wrong)}).status_code == 422
    assert len(smtp.messages) == 2, "the same bytes again: nothing sent twice"
