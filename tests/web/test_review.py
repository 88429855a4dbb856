"""The office's 审核 on the board over HTTP: approve and return (never without a reason), clerks refused, the month
locked from the board refusing a later file, one unit reopened, and a warning's 说明 accepted or queried; each action
CSRF-checked, in the audit log, and in the review domain as `web:<account>`."""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from starlette.testclient import TestClient

from tasks.accounts import audit
from tasks.accounts.users import add_user, set_password
from tasks.review.explain import ACCEPTED, QUERIED, month_warnings
from tasks.review.transitions import history
from tests.review_fixture import total_of, write_report
from tests.web import workbooks
from tests.web.conftest import MONTH, PASSWORD, Platform, csrf_of
from warehouse.schema import fct_mail, fct_month_lock, fct_warning_explanation

UNIT_PAGE = f"/board/units/chaoyang?month={MONTH}"


def _account(platform: Platform, name: str, role: str, unit: str | None = None) -> TestClient:
    set_password(platform.rt.engine, add_user(platform.rt.engine, name, role, unit), PASSWORD)
    return platform.signed_in(name)


def _post(client: TestClient, page: str, action: str, **fields: object):
    """Post a board form with the CSRF token of the page it sits on."""
    return client.post(action, data={"csrf": csrf_of(client.get(page).text), "month": MONTH, **fields})


def _review_state(html: str) -> str:
    found = re.search(r'id="review-state">([^<·]+)', html)
    assert found, "the page has no review state"
    return found.group(1).strip()


def _hand_in(platform: Platform, clerk: str, unit: str, folder: Path, seed: int = 0) -> int:
    data = workbooks.valid(platform.rt.config, unit, folder, seed=seed)
    answer = platform.signed_in(clerk).post("/api/submissions", files={"file": (f"{unit}-{seed}.xlsx", data)})
    return answer.status_code


def test_approve_then_return_with_a_reason_never_without(platform: Platform, tmp_path: Path) -> None:
    assert _hand_in(platform, "cy-clerk", "chaoyang", tmp_path) == 201
    office = platform.signed_in("office")
    page = office.get(UNIT_PAGE).text
    assert _review_state(page) == "待审" and 'id="approve-form"' in page and 'id="reopen-form"' not in page
    assert office.post("/board/units/chaoyang/approve", data={"month": MONTH}).status_code == 403  # no CSRF token
    assert _post(office, UNIT_PAGE, "/board/units/chaoyang/approve").status_code == 303
    page = office.get(UNIT_PAGE).text
    assert _review_state(page) == "已审核" and 'id="approve-form"' not in page and "web:office" in page

    empty = _post(office, UNIT_PAGE, "/board/units/chaoyang/return", reason="   ")
    assert empty.status_code == 400
    assert "退回必须填写原因" in empty.text and "a return needs a reason" in empty.text
    assert _review_state(empty.text) == "已审核"

    reason = "表1第3行合计与上月差异过大，请核实"
    assert _post(office, UNIT_PAGE, "/board/units/chaoyang/return", reason=reason).status_code == 303
    page = office.get(UNIT_PAGE).text
    assert _review_state(page) == "退回" and reason in page and 'id="approve-form"' not in page
    engine = platform.rt.engine
    with engine.connect() as conn:
        moves = history(conn, "chaoyang", MONTH)
        mails = conn.execute(select(fct_mail).where(fct_mail.c.kind == "return")).all()
    assert [(t.action, t.actor) for t in moves][1:] == [("approve", "web:office"), ("return", "web:office")]
    assert moves[-1].reason == reason and [m.status for m in mails] == ["written"]
    events = {e["action"]: e for e in audit.recent(engine)}
    assert events["approve"]["username"] == "office" and events["approve"]["unit_code"] == "chaoyang"
    assert events["return"]["submission_id"] == moves[-1].submission_id and "return_refused" in events

    # Board: each unit's review state.
    board = office.get(f"/board?month={MONTH}").text
    row = re.search(r'data-unit="chaoyang">(.*?)</tr>', board, re.S)
    assert row and "退回" in row.group(1)
    states = {u["unit"]: u["review"] for u in office.get(f"/api/board?month={MONTH}").json()["units"]}
    assert states["chaoyang"] == "returned" and states["dongcheng"] == "unreported"
    sheet = load_workbook(io.BytesIO(office.get(f"/board.xlsx?month={MONTH}").content)).active
    assert {r[1]: r[9] for r in sheet.iter_rows(min_row=6, values_only=True)}["chaoyang"] == "退回"


def test_a_clerk_cannot_review(platform: Platform, tmp_path: Path) -> None:
    assert _hand_in(platform, "cy-clerk", "chaoyang", tmp_path) == 201
    clerk = platform.signed_in("cy-clerk")
    assert clerk.get(UNIT_PAGE).status_code == 403
    token = csrf_of(clerk.get("/unit").text)
    for action in ("approve", "return", "reopen"):
        answer = clerk.post(f"/board/units/chaoyang/{action}", data={"csrf": token, "month": MONTH, "reason": "x"})
        assert answer.status_code == 403, action
    assert clerk.post("/board/lock", data={"csrf": token, "month": MONTH, "confirm": MONTH}).status_code == 403
    with platform.rt.engine.connect() as conn:
        assert [t.action for t in history(conn, "chaoyang", MONTH)] == ["submit"]


def test_the_board_locks_the_month_and_reopens_one_unit(platform: Platform, tmp_path: Path) -> None:
    assert _hand_in(platform, "cy-clerk", "chaoyang", tmp_path) == 201
    office, admin = platform.signed_in("office"), _account(platform, "boss", "admin")
    board = f"/board?month={MONTH}"
    assert 'id="lock-form"' not in office.get(board).text  # reviewers do not lock
    assert _post(office, UNIT_PAGE, "/board/lock", confirm=MONTH).status_code == 403
    unconfirmed = _post(admin, board, "/board/lock", confirm="2020-10")
    assert unconfirmed.status_code == 400 and f"请在确认框中输入 {MONTH}" in unconfirmed.text
    engine = platform.rt.engine
    with engine.connect() as conn:
        assert conn.execute(select(fct_month_lock)).first() is None
    assert _post(admin, board, "/board/lock", confirm=MONTH, reason="已发领导").status_code == 303
    with engine.connect() as conn:
        lock = conn.execute(select(fct_month_lock)).one()
    assert (lock.locked_by, lock.reason) == ("web:boss", "已发领导")
    assert 'id="month-lock"' in admin.get(board).text and _review_state(office.get(UNIT_PAGE).text) == "已锁定"
    assert _post(admin, board, "/board/lock", confirm=MONTH).status_code == 400  # already locked

    refused = platform.signed_in("cy-clerk").post(
        "/api/submissions", files={"file": ("again.xlsx", workbooks.valid(platform.rt.config, "chaoyang", tmp_path, 1))}
    )
    assert refused.status_code == 422 and "locked" in refused.text and "web:boss" in refused.text

    no_reason = _post(office, UNIT_PAGE, "/board/units/chaoyang/reopen", reason="", days="2")
    assert no_reason.status_code == 400 and "重新开放必须注明原因" in no_reason.text
    assert _post(office, UNIT_PAGE, "/board/units/chaoyang/reopen", reason="更正第5行", days="2").status_code == 303
    page = office.get(UNIT_PAGE).text
    assert _review_state(page) == "待审" and "重新开放至" in page and "更正第5行" in page
    assert _hand_in(platform, "cy-clerk", "chaoyang", tmp_path, seed=2) == 201
    assert _hand_in(platform, "hd-clerk", "haidian", tmp_path) == 422  # the others stay locked
    actions = {e["action"] for e in audit.recent(engine)}
    assert {"lock", "lock_refused", "reopen", "reopen_refused"} <= actions


def test_the_reviewer_accepts_or_queries_a_units_explanation(platform: Platform, tmp_path: Path) -> None:
    cfg, engine = platform.rt.config, platform.rt.engine
    unit = cfg.units_of_form("表3")[0]
    form = cfg.form("表3")
    linked = {r.parent for r in form.rows} | {r.at_most for r in form.rows} | {r.weight_row for r in form.rows}
    free = [
        r.row_no
        for r in form.rows
        if r.row_no > 1 and r.kind == "count" and r.parent is None and r.at_most is None and r.row_no not in linked
    ][:2]
    clerk = _account(platform, "front-clerk", "clerk", unit.code)
    august = write_report(cfg, unit, "2020-08", tmp_path, "aug.xlsx").read_bytes()
    assert clerk.post("/api/submissions", files={"file": ("aug.xlsx", august)}).status_code == 201
    lower = {row: total_of(cfg, unit, "2020-08", row) - 1 for row in free}  # below August: year-to-date decreases
    september = write_report(cfg, unit, MONTH, tmp_path, "sep.xlsx", lower).read_bytes()
    answer = clerk.post("/api/submissions", files={"file": ("sep.xlsx", september)})
    assert answer.status_code == 201, answer.text
    sid = answer.json()["submission_id"]
    with engine.connect() as conn:
        first, second = [w for w in month_warnings(conn, MONTH) if w.unit_code == unit.code]
    explained = {f"explain:{first.key}": "项目调整，已核实", f"explain:{second.key}": "口径变化"}
    token = csrf_of(clerk.get(f"/submissions/{sid}").text)
    assert clerk.post(f"/submissions/{sid}/explain", data={"csrf": token, **explained}).status_code == 303

    office = platform.signed_in("office")
    page_url = f"/board/units/{unit.code}?month={MONTH}"
    page = office.get(page_url).text
    assert "项目调整，已核实" in page and page.count('value="accepted"') == 2
    accept = f"/board/units/{unit.code}/warnings/{first.issue_id}"
    assert office.post(accept, data={"month": MONTH, "decision": ACCEPTED}).status_code == 403  # no CSRF token
    assert _post(office, page_url, accept, decision=ACCEPTED).status_code == 303
    query = f"/board/units/{unit.code}/warnings/{second.issue_id}"
    unasked = _post(office, page_url, query, decision=QUERIED, question=" ")
    assert unasked.status_code == 400 and "质询必须写明问题" in unasked.text
    assert _post(office, page_url, query, decision=QUERIED, question="请说明口径变化的依据").status_code == 303
    again = _post(office, page_url, accept, decision=ACCEPTED)
    assert again.status_code == 400 and "no 说明 awaiting a decision" in again.text
    assert office.get(f"/board/units/chaoyang/warnings/{first.issue_id}").status_code == 405
    elsewhere = _post(office, UNIT_PAGE, f"/board/units/chaoyang/warnings/{first.issue_id}", decision=ACCEPTED)
    assert elsewhere.status_code == 404  # the warning is not chaoyang's

    with engine.connect() as conn:
        by_id = {w.issue_id: w for w in month_warnings(conn, MONTH)}
    assert (by_id[first.issue_id].status, by_id[second.issue_id].status) == (ACCEPTED, QUERIED)
    assert by_id[second.issue_id].query == "请说明口径变化的依据"
    with engine.connect() as conn:
        who = conn.execute(select(fct_warning_explanation.c.explained_by, fct_warning_explanation.c.decided_by)).all()
    assert [tuple(r) for r in who] == [("web:front-clerk", "web:office")] * 2
    page = office.get(page_url).text
    assert "说明已接受" in page and "请说明口径变化的依据" in page
    actions = [e["action"] for e in audit.recent(engine)]
    assert "warning_accept" in actions and "warning_query" in actions
