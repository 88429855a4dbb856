"""Check and hand in over HTTP: the same parse and contracts as ingest-file, stored only on Submit, and only for
the clerk's own unit; receipts, annotated rejections, history, and ids that belong to someone else."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from tasks.accounts import audit
from tests.web import workbooks
from tests.web.conftest import MONTH, Platform, csrf_of
from warehouse.schema import fct_submission

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def n_submissions(platform: Platform) -> int:
    with platform.rt.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(fct_submission)).scalar_one()


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_check_shows_the_wrong_total_and_stores_nothing(platform: Platform, tmp_path: Path) -> None:
    cfg = platform.rt.config
    data, address = workbooks.wrong_total(cfg, "chaoyang", tmp_path)
    client = platform.signed_in("cy-clerk")
    answer = client.post("/api/check", files={"file": ("朝阳区.xlsx", data, XLSX)})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["unit"], body["month"]) == ("rejected", "chaoyang", MONTH)
    (total,) = [i for i in body["issues"] if i["rule"] == "total_sum"]
    assert total["cell"] == address and total["row_no"] == 1 and total["region"] == cfg.total_column
    assert total["message_zh"] and total["message_en"] and set(total) >= {"sheet", "value"}
    page = client.post(
        "/unit/upload",
        data={"csrf": csrf_of(client.get("/unit").text), "action": "check"},
        files={"file": ("朝阳区.xlsx", data, XLSX)},
    )
    assert page.status_code == 200
    assert f'class="num error" data-cell="{address}"' in page.text
    assert total["message_zh"] in page.text and "nothing was stored" in page.text
    assert n_submissions(platform) == 0
    assert files_under(platform.home / "archive") == [] and files_under(platform.home / "inbox") == []
    good = client.post("/api/check", files={"file": ("朝阳区.xlsx", workbooks.valid(cfg, "chaoyang", tmp_path))})
    assert good.json()["status"] == "accepted" and good.json()["issues"] == []


def test_the_safety_guard_runs_before_any_reader(platform: Platform) -> None:
    client = platform.signed_in("cy-clerk")
    bomb = client.post("/api/check", files={"file": ("bomb.xlsx", workbooks.zip_bomb())}).json()
    assert bomb["status"] == "rejected" and bomb["issues"][0]["rule"] == "compression_ratio"
    pdf = client.post("/api/check", files={"file": ("r.xlsx", b"%PDF-1.4 ...")}).json()
    assert pdf["issues"][0]["rule"] == "not_a_workbook"


def test_submit_loads_a_version_and_prints_its_receipt(platform: Platform, tmp_path: Path) -> None:
    cfg = platform.rt.config
    client = platform.signed_in("cy-clerk")
    first = workbooks.valid(cfg, "chaoyang", tmp_path)
    answer = client.post("/api/submissions", files={"file": ("朝阳区9月.xlsx", first)})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["status"], body["version"], body["issues"]) == ("accepted", 1, [])
    with platform.rt.engine.connect() as conn:
        row = conn.execute(select(fct_submission).where(fct_submission.c.submission_id == body["submission_id"])).one()
    # Placed in the unit's inbox folder so the pipeline's own provenance rule applies; who sent it is in the audit.
    assert row.source in {"web:cy-clerk", "inbox:chaoyang/朝阳区9月.xlsx"} and row.original_name == "朝阳区9月.xlsx"
    (event,) = audit.recent(platform.rt.engine, action="submit")
    assert (event["username"], event["submission_id"], event["unit_code"]) == (
        "cy-clerk",
        row.submission_id,
        "chaoyang",
    )
    assert (platform.home / row.archive_path).is_file()
    receipt = client.get(f"/submissions/{body['submission_id']}/receipt")
    assert receipt.status_code == 200
    for text in ("报送回执", "北京市朝阳区", MONTH, "第1版", row.sha256[:16], cfg.total_column):
        assert text in receipt.text
    assert row.sha256[:17] not in receipt.text  # the first 16 hex characters only
    unit = client.get("/unit?month=2020-09").text
    assert "已接收 accepted" in unit and f"/submissions/{body['submission_id']}/receipt" in unit
    again = client.post("/api/submissions", files={"file": ("again.xlsx", first)})
    assert again.status_code == 200 and again.json()["submission_id"] == body["submission_id"]  # not loaded twice
    second = client.post("/api/submissions", files={"file": ("v2.xlsx", workbooks.valid(cfg, "chaoyang", tmp_path, 1))})
    assert second.status_code == 201 and second.json()["version"] == 2
    listed = client.get("/api/submissions?month=2020-09").json()["submissions"]
    assert [s["version"] for s in listed] == [1, 2] and {s["unit"] for s in listed} == {"chaoyang"}


def test_a_rejected_submission_is_recorded_and_annotated(platform: Platform, tmp_path: Path) -> None:
    cfg = platform.rt.config
    data, address = workbooks.wrong_total(cfg, "chaoyang", tmp_path)
    client = platform.signed_in("cy-clerk")
    answer = client.post("/api/submissions", files={"file": ("朝阳区.xlsx", data)})
    assert answer.status_code == 422
    body = answer.json()
    assert body["status"] == "rejected" and body["version"] is None
    assert any(i["cell"] == address and i["rule"] == "total_sum" for i in body["issues"])
    assert n_submissions(platform) == 1
    page = client.get(f"/submissions/{body['submission_id']}")
    assert page.status_code == 200 and f'class="num error" data-cell="{address}"' in page.text
    annotated = client.get(f"/submissions/{body['submission_id']}/annotated.xlsx")
    assert annotated.status_code == 200 and "filename*=UTF-8''" in annotated.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(annotated.content))
    assert wb.sheetnames[0] == "问题清单"
    assert wb[cfg.unit("chaoyang").form_code][address].comment is not None
    assert client.get(f"/submissions/{body['submission_id']}/receipt").status_code == 404
    assert "已退回 rejected" in client.get("/unit?month=2020-09").text


def test_another_units_file_is_refused_unstored_and_audited(platform: Platform, tmp_path: Path) -> None:
    data = workbooks.valid(platform.rt.config, "chaoyang", tmp_path)
    client = platform.signed_in("hd-clerk")
    for route in ("/api/check", "/api/submissions"):
        answer = client.post(route, files={"file": ("report.xlsx", data)})
        assert answer.status_code == 403
        assert answer.json()["detail"].endswith("this file is for 朝阳区; you are signed in for 海淀区")
    page = client.post(
        "/unit/upload",
        data={"csrf": csrf_of(client.get("/unit").text), "action": "submit"},
        files={"file": ("report.xlsx", data)},
    )
    assert page.status_code == 403 and "this file is for 朝阳区; you are signed in for 海淀区" in page.text
    refused = audit.recent(platform.rt.engine, action="refused")
    assert len(refused) == 3 and {(e["username"], e["unit_code"]) for e in refused} == {("hd-clerk", "haidian")}
    assert all("chaoyang" in e["detail"] for e in refused)
    assert n_submissions(platform) == 0 and files_under(platform.home / "inbox") == []


def test_a_file_named_for_another_unit_is_refused(platform: Platform, tmp_path: Path) -> None:
    data = workbooks.valid(platform.rt.config, "chaoyang", tmp_path)
    client = platform.signed_in("cy-clerk")
    answer = client.post("/api/submissions", files={"file": ("2020-09_海淀区.xlsx", data)})
    assert answer.status_code == 403 and "this file is for 海淀区" in answer.json()["detail"]
    assert n_submissions(platform) == 0


def test_file_names_never_become_paths(platform: Platform, tmp_path: Path) -> None:
    data = workbooks.valid(platform.rt.config, "chaoyang", tmp_path)
    client = platform.signed_in("cy-clerk")
    answer = client.post("/api/submissions", files={"file": ("../../../outside/evil.xlsx", data)})
    assert answer.status_code == 201
    with platform.rt.engine.connect() as conn:
        name = conn.execute(select(fct_submission.c.original_name)).scalar_one()
    assert name == "evil.xlsx"
    assert not (platform.home.parent / "outside").exists() and not (platform.home / "outside").exists()
    assert all(platform.home in p.parents for p in files_under(platform.home.parent) if p.name == "evil.xlsx")


def test_a_clerk_cannot_read_another_units_data_by_guessing_ids(platform: Platform, tmp_path: Path) -> None:
    cfg = platform.rt.config
    data, _ = workbooks.wrong_total(cfg, "chaoyang", tmp_path)
    mine = platform.signed_in("cy-clerk")
    rejected = mine.post("/api/submissions", files={"file": ("a.xlsx", data)}).json()["submission_id"]
    accepted = mine.post("/api/submissions", files={"file": ("b.xlsx", workbooks.valid(cfg, "chaoyang", tmp_path))})
    ids = [rejected, accepted.json()["submission_id"]]
    other = platform.signed_in("hd-clerk")
    for sid in ids:
        for suffix in ("", "/receipt", "/annotated.xlsx"):
            answer = other.get(f"/submissions/{sid}{suffix}")
            assert answer.status_code == 404, (sid, suffix)
            assert "朝阳" not in answer.text
    assert other.get("/api/submissions?month=2020-09").json()["submissions"] == []
    assert len(audit.recent(platform.rt.engine, action="denied")) == 6
    office = platform.signed_in("office")
    assert office.get(f"/submissions/{ids[1]}").status_code == 200
    assert len(office.get("/api/submissions?month=2020-09").json()["submissions"]) == 2


def test_the_blank_template_carries_my_units_marker(platform: Platform) -> None:
    from tasks.report.marker import MARKER_SHEET

    answer = platform.signed_in("cy-clerk").get("/unit/template?month=2020-10")
    assert answer.status_code == 200 and answer.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(answer.content))
    marker = {r[0]: r[1] for r in wb[MARKER_SHEET].iter_rows(values_only=True)}
    assert (marker["unit"], marker["month"]) == ("chaoyang", "2020-10")


def test_a_district_downloads_its_own_labor_list_only(platform: Platform) -> None:
    from tasks.labor.lists import list_path

    folder = platform.home / "outputs" / MONTH / "labor"
    folder.mkdir(parents=True)
    list_path(folder, MONTH, "朝阳区").write_bytes(b"chaoyang list")
    list_path(folder, MONTH, "海淀区").write_bytes(b"haidian list")
    assert platform.signed_in("cy-clerk").get("/unit/labor-list?month=2020-09").content == b"chaoyang list"
    assert platform.signed_in("hd-clerk").get("/unit/labor-list?month=2020-09").content == b"haidian list"
    assert platform.signed_in("hr-clerk").get("/unit/labor-list?month=2020-09").status_code == 403
    assert platform.signed_in("office").get("/unit/labor-list?month=2020-09").status_code == 403
    assert platform.signed_in("cy-clerk").get("/unit/labor-list?month=2020-08").status_code == 404
