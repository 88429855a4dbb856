"""The office board: units × status with the rates of v_completeness, the arrivals, the paper copy, the xlsx."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text

from tests.web import workbooks
from tests.web.conftest import MONTH, Platform, csrf_of


def test_the_board_shows_each_units_month_and_the_views_rates(platform: Platform, tmp_path: Path) -> None:
    cfg = platform.rt.config
    clerk = platform.signed_in("cy-clerk")
    assert (
        clerk.post(
            "/api/submissions", files={"file": ("a.xlsx", workbooks.valid(cfg, "chaoyang", tmp_path))}
        ).status_code
        == 201
    )
    bad, _ = workbooks.wrong_total(cfg, "haidian", tmp_path)
    assert platform.signed_in("hd-clerk").post("/api/submissions", files={"file": ("b.xlsx", bad)}).status_code == 422
    office = platform.signed_in("office")
    board = office.get(f"/api/board?month={MONTH}").json()
    states = {u["unit"]: u["status"] for u in board["units"]}
    assert states["chaoyang"] == "accepted" and states["haidian"] == "rejected" and states["dongcheng"] == "not_sent"
    with platform.rt.engine.connect() as conn:
        view = (
            conn.execute(text("SELECT * FROM v_completeness WHERE month = :m LIMIT 1"), {"m": MONTH}).mappings().one()
        )
    assert board["n_reported"] == view["n_reported"] == 1
    assert board["reporting_rate"] == float(view["reporting_rate"]) and board["n_expected"] == view["n_expected"]
    assert sum(a["count"] for a in board["arrivals"]) == 1 and board["arrivals"][-1]["total"] == 1
    page = office.get(f"/board?month={MONTH}").text
    assert 'data-unit="chaoyang"' in page and "已接收 accepted" in page and "<svg" in page
    xlsx = office.get(f"/board.xlsx?month={MONTH}")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = {r[1]: r for r in ws.iter_rows(min_row=6, values_only=True)}
    assert rows["chaoyang"][3] == "已接收 accepted" and rows["haidian"][3] == "已退回 rejected"


def test_the_office_records_the_stamped_paper_copy(platform: Platform) -> None:
    office = platform.signed_in("office")
    page = office.get(f"/board/units/chaoyang?month={MONTH}")
    assert page.status_code == 200 and 'id="review-actions"' in page.text
    form = {"month": MONTH, "received_on": "2020-10-09"}
    assert office.post("/board/units/chaoyang/paper", data=form).status_code == 403  # no CSRF token
    answer = office.post("/board/units/chaoyang/paper", data={**form, "csrf": csrf_of(page.text)})
    assert answer.status_code == 303
    shown = office.get(f"/board/units/chaoyang?month={MONTH}").text
    assert "已收 received 2020-10-09" in shown and "recorded by office" in shown
    board = office.get(f"/api/board?month={MONTH}").json()
    assert {u["unit"]: u["paper_copy"] for u in board["units"]}["chaoyang"] == "2020-10-09"
