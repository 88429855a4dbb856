"""The personal-data scanner finds identity numbers, names and secrets in text, workbooks and e-mails."""

from __future__ import annotations

import base64
import io
import json
import pickle
import sqlite3
import zlib
from email.message import EmailMessage
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from config import Config
from fupin.demo import labor as demo_labor
from tasks.audit.pii_scan import Needles, scan_lists, scan_text, scan_tree, texts_of_bytes, texts_of_sqlite

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


# --- Prefect's stores, the lists folder: people come from the demo generator, so they are synthetic ---


@pytest.fixture(scope="module")
def person(cfg: Config) -> tuple[str, str, pd.DataFrame]:
    """One synthetic laborer (a 3-character name and a valid identity number) and a small frame holding them."""
    frame = demo_labor.generate_labor(cfg, by_district={cfg.districts[0].name: 6}, by_paired_county={})
    name_col, id_col = cfg.labor.columns["name"][0], cfg.labor.columns["id_number"][0]
    frame = frame[frame[name_col].str.len() == 3]
    return frame[name_col].iloc[0], frame[id_col].iloc[0], frame[[name_col, id_col]].head(3)


def _needles(person: tuple[str, str, pd.DataFrame]) -> Needles:
    return Needles(frozenset({person[0]}), ())


def _result_record(value: object, serializer: str) -> bytes:
    """A result file exactly as Prefect's result store writes it."""
    from prefect._internal.result_records import ResultRecord, ResultRecordMetadata
    from prefect.serializers import Serializer

    meta = ResultRecordMetadata(storage_key="k", serializer=Serializer(type=serializer))
    return ResultRecord(metadata=meta, result=value).serialize()


@pytest.mark.parametrize("serializer", ["pickle", "compressed/pickle", "json"])
def test_prefect_result_files_are_decoded(person, tmp_path: Path, serializer: str) -> None:
    name, id_number, frame = person
    value = {"rows": [name, id_number]} if serializer == "json" else frame
    data = _result_record(value, serializer)
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "0f3a9c").write_bytes(data)
    kinds = {f.kind for f in scan_tree(tmp_path, _needles(person))}
    assert kinds == {"name", "id_number"}, (serializer, kinds)
    if serializer != "json":
        assert id_number.encode() not in data and name.encode() not in data, "only the decoded copy holds them"


def test_a_base64_copy_in_text_and_a_frame_of_packed_strings_are_found(person, tmp_path: Path) -> None:
    name, id_number, frame = person
    payload = base64.b64encode(f"{name},{id_number}".encode()).decode()
    (tmp_path / "event.json").write_text(json.dumps({"payload": payload}), encoding="utf-8")
    (tmp_path / "log.txt").write_text("who: " + base64.b64encode(name.encode()).decode(), encoding="utf-8")
    kinds = sorted(f.kind for f in scan_tree(tmp_path, _needles(person)))
    assert kinds == ["id_number", "name", "name"], "a bare name is 12 base64 characters"
    packed = pickle.dumps(frame[frame.columns[1]].astype("string[pyarrow]"), protocol=5)
    found = [f for w, t in texts_of_bytes(packed, "p") for f in scan_text(t, w, _needles(person))]
    assert {f.kind for f in found} == {"id_number"} and len(found) == len(frame), "numbers touching in one buffer"


def test_a_prefect_like_sqlite_database_is_read_column_by_column(person, tmp_path: Path) -> None:
    name, id_number, frame = person
    db = tmp_path / "prefect" / "prefect.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.execute("create table log (id integer, message text)")
    conn.execute("create table task_run_state (id integer, data json, state_details json)")
    conn.execute("create table artifact (id integer, data blob)")
    conn.execute("create table variable (id integer, value json)")
    conn.execute("insert into log values (1, 'flow started'), (2, 'finished')")
    conn.execute("insert into task_run_state values (1, ?, '{}')", (json.dumps({"message": f"bad row {id_number}"}),))
    conn.execute("insert into artifact values (1, ?)", (zlib.compress(pickle.dumps(frame)),))
    conn.execute("insert into variable values (1, ?)", (json.dumps({"who": name}),))  # \\uXXXX escapes
    conn.commit()
    conn.close()
    wheres = {(f.kind, f.where.split("!")[0]) for f in scan_tree(tmp_path, _needles(person))}
    assert wheres == {
        ("id_number", "prefect.db:task_run_state.data"),
        ("id_number", "prefect.db:artifact.data"),
        ("name", "prefect.db:artifact.data"),
        ("name", "prefect.db:variable.value"),
    }


def _list(cfg: Config, folder: Path, district: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"2020-09_{district}_名单.xlsx"
    path.write_bytes(_xlsx(text))
    return path


def _modes(home: Path, folder_mode: int, file_mode: int) -> None:
    for path in [home, *home.rglob("*")]:
        path.chmod(folder_mode if path.is_dir() else file_mode)


def test_lists_folder_leftovers_and_exposed_lists_are_flagged(person, cfg: Config, tmp_path: Path) -> None:
    name, id_number, _ = person
    home = tmp_path / "home"
    folder = home / "outputs" / "2020-09" / "labor"
    district = cfg.districts[0].name
    _list(cfg, folder, district, f"{name} {id_number}")
    (folder / f".2020-09_{district}_名单.xlsx.tmp").write_bytes(_xlsx(f"{name} {id_number}"))
    _modes(home, 0o700, 0o600)
    found, notes = scan_lists(cfg, folder, home, _needles(person))
    assert found == [] and len(notes) == 1 and ".tmp" in notes[0], "owner-only: the leftover is noted, not a leak"
    _modes(home, 0o755, 0o644)
    found, _ = scan_lists(cfg, folder, home, _needles(person))
    assert sorted(f.kind for f in found) == ["id_number", "name", "readable_by_others"]
    assert {f.where for f in found if f.kind != "readable_by_others"} == {
        f"outputs/2020-09/labor/.2020-09_{district}_名单.xlsx.tmp!xl/sharedStrings.xml"
    }
    home.chmod(0o700)
    assert scan_lists(cfg, folder, home, _needles(person)) == ([], notes), "a closed home closes what is inside"


@pytest.mark.prefect
def test_a_real_flow_that_logs_and_returns_a_person_is_caught_in_prefects_stores(
    person, prefect_api, tmp_path: Path
) -> None:
    from prefect import flow, get_run_logger, task
    from prefect.cache_policies import NO_CACHE
    from prefect.filesystems import LocalFileSystem
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL
    from sqlalchemy.engine import make_url

    _name, id_number, frame = person
    storage = LocalFileSystem(basepath=str(tmp_path / "storage"))
    storage.save(f"pii-scan-{tmp_path.name}".lower().replace("_", "-"), overwrite=True)

    @task(persist_result=True, result_storage=storage, cache_policy=NO_CACHE)
    def keep(rows: pd.DataFrame) -> pd.DataFrame:
        return rows

    @flow(persist_result=True, result_storage=storage)
    def tiny_leak(rows: pd.DataFrame) -> pd.DataFrame:
        get_run_logger().warning("row 7 is %s", rows.iloc[0].to_dict())
        return keep(rows)

    state = tiny_leak(frame, return_state=True)
    APILogWorker.drain_all(timeout=30)
    database = Path(make_url(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).database)
    try:
        masked = id_number[:6] + "********" + id_number[-4:]
        stored = scan_tree(tmp_path / "storage", _needles(person))
        assert {f.kind for f in stored} == {"name", "id_number"} and masked in {f.sample for f in stored}
        found = [f for w, t in texts_of_sqlite(database) for f in scan_text(t, w, _needles(person))]
        assert {f.where.split("!")[0] for f in found if f.kind == "name"} >= {"prefect-test.db:log.message"}
        assert masked in {f.sample for f in found if f.where.startswith("prefect-test.db:log.")}
    finally:
        _forget_run(state.state_details.flow_run_id, database)


def _forget_run(run_id, database: Path) -> None:
    """Take the deliberate leak out of the session's shared Prefect store again: a later test that scans every log
    (tests/reliability/test_personal_data.py) must find only what the pipeline itself wrote."""
    import sqlite3

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.delete_flow_run(run_id)
    with sqlite3.connect(database, timeout=60) as db:
        db.execute("DELETE FROM log WHERE flow_run_id = ?", (str(run_id),))
