"""`fupin ingest` mails each unit its receipt or rejection report at once, over real SMTP, once per file: on SQLite
and on PostgreSQL, in-process (no Prefect API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config import Config
from fupin.demo.reports import write_filled_report
from tests.smtp_capture import Capture, plain_server
from warehouse.schema import fct_mail, fct_submission

MONTH = "2020-09"


@pytest.fixture
def smtp(fupin_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Capture]:
    for server in plain_server():
        monkeypatch.setenv("FUPIN_SMTP_HOST", server.host)
        monkeypatch.setenv("FUPIN_SMTP_PORT", str(server.port))
        yield server.capture


@pytest.fixture
def in_process(fupin_home: Path, warehouse_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The command on the test's warehouse, with no Prefect API: it runs in-process and any API call fails."""
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")
    return engine


def test_an_ingest_mails_a_receipt_and_a_rejection_once(cli, in_process: Engine, smtp: Capture, cfg: Config, tmp_path):
    good, bad = cfg.unit("dongcheng"), cfg.unit("xicheng")
    ok = write_filled_report(cfg, good, MONTH, tmp_path / "in" / f"{good.name}.xlsx")
    wrong = write_filled_report(cfg, bad, MONTH, tmp_path / "in" / f"{bad.name}.xlsx", cells={(10, "合计"): 120})

    assert cli("ingest", str(ok), str(wrong)) == 1  # a rejection is exit 1; the mail does not change it

    by_to = {m["To"]: m for m in smtp.messages}
    assert len(smtp.messages) == 2 and set(by_to) == {good.email, bad.email}
    assert by_to[good.email]["Subject"].startswith(f"[{MONTH} {good.name}] 【回执】")
    rejection = by_to[bad.email]
    assert rejection["Subject"].startswith(f"[{MONTH} {bad.name}] 【退回】")
    assert [p.get_filename() for p in rejection.iter_attachments()][0].endswith("_标注.xlsx")
    with in_process.connect() as conn:
        mails = conn.execute(select(fct_mail.c.kind, fct_mail.c.status, fct_mail.c.submission_id)).all()
        ids = dict(conn.execute(select(fct_submission.c.status, fct_submission.c.submission_id)).all())
    assert sorted(mails) == sorted([("receipt", "sent", ids["accepted"]), ("rejection", "sent", ids["rejected"])])

    assert cli("ingest", str(ok), str(wrong)) == 1  # the same bytes again: a duplicate and the same rejection
    assert len(smtp.messages) == 2, "nothing is sent twice"
