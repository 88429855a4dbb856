"""After a demo-like run, no identity number, no laborer's name and no secret is found outside the restricted table
and each district's own list: not in the warehouse, outputs, logs, quarantine or Prefect artifacts and logs, and not
in the outbox, where the lists go encrypted (the platform is off in this run)."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config import Config
from fupin.demo import bad_files
from fupin.demo import labor as demo_labor
from tasks.audit.pii_scan import Needles, encrypted_office, scan_outbox, scan_text, scan_tree, texts_of_bytes
from tests.reliability.conftest import ROOT, drop

pytestmark = pytest.mark.prefect
MONTH = bad_files.MONTH
PII_KEY = "pii-key-1c9e4b7a2f60d3-5e8a0b7c94d21f63"
SMTP_PASSWORD = "smtp-pw-8d21f0c7e5"


def _prefect_texts() -> list[tuple[str, str]]:
    """Every log line and artifact the session's Prefect API holds."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        logs = client.read_logs()
        artifacts = client.read_artifacts()
    return [("prefect:log", "\n".join(log.message for log in logs))] + [
        (f"prefect:artifact:{a.key}", f"{a.description}\n{a.data}") for a in artifacts
    ]


@pytest.fixture
def demo_run(
    cfg: Config, prefect_api, fupin_home: Path, home_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Two reports, a labor file (and a rejected one with 5% bad numbers), its district lists, the month published and
    mailed."""
    from flows.ingest_file import ingest_file
    from flows.ingest_labor import ingest_labor
    from flows.labor_steps import write_labor_lists
    from flows.publish_month import publish_month
    from flows.runtime import load_runtime

    monkeypatch.setenv("FUPIN_PII_KEY", PII_KEY)
    monkeypatch.setenv("FUPIN_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("FUPIN_WEB_URL", "off")  # the lists go by e-mail, encrypted: the outbox's hardest case
    for code in ("表1", "表3"):
        ingest_file(str(drop(bad_files.good_report(cfg, tmp_path / f"{code}.xlsx", code), fupin_home / "inbox")))
    districts = [u.name for u in cfg.districts][:3]
    frame = demo_labor.generate_labor(cfg, by_district={d: 40 for d in districts}, by_paired_county={})
    incoming = fupin_home / "incoming"
    incoming.mkdir()
    bad = frame.copy()
    id_col = cfg.labor.columns["id_number"][0]
    bad.loc[bad.index[:6], id_col] = bad[id_col].iloc[:6].str[:17] + "Z"
    state = ingest_labor(str(demo_labor.write_csv(bad, incoming / "bad.csv")), MONTH, return_state=True)
    assert state.is_failed()
    ingest_labor(str(demo_labor.write_csv(frame, incoming / "labor.csv")), MONTH)
    write_labor_lists(load_runtime(), MONTH)  # as the monthly close does before publishing
    publish_month(MONTH, send=True)
    return frame


def test_no_identity_number_name_or_secret_outside_its_place(demo_run, cfg: Config, fupin_home: Path) -> None:
    frame = demo_run
    name_col = cfg.labor.columns["name"][0]
    names = frozenset(n for n in frame[name_col] if len(n) == 3)
    needles = Needles(names, (PII_KEY, SMTP_PASSWORD))
    lists_dir = fupin_home / "outputs" / MONTH / "labor"
    assert list(lists_dir.glob("*.xlsx")), "the run wrote no district lists to check against"

    # The original files are kept by design (archive: read-only; incoming: the HR bureau's drop folder).
    found = scan_tree(
        fupin_home, needles, skip=[fupin_home / "archive", fupin_home / "incoming", lists_dir, fupin_home / "outbox"]
    )
    found = [f for f in found if not f.where.startswith("warehouse.db:restricted_labor_person.")]
    found += scan_outbox(fupin_home / "outbox", needles)
    locked = [
        part
        for path in (fupin_home / "outbox").glob("*.eml")
        for part in email.message_from_bytes(path.read_bytes(), policy=email.policy.default).iter_attachments()
        if encrypted_office(part.get_content())
    ]
    assert len(locked) == len(cfg.districts), "each district got its list, encrypted"
    for where, text in _prefect_texts():
        found += scan_text(text, where, needles)
    assert found == [], found[:20]

    district_col = cfg.labor.columns["work_district"][0]
    for path in sorted(lists_dir.glob("*.xlsx")):
        data = path.read_bytes()
        unit = next(u for u in cfg.districts if u.name in path.name)
        own = {
            n for n, d in zip(frame[name_col], frame[district_col], strict=False) if d in unit.name or unit.name in d
        }
        text = "\n".join(t for _, t in texts_of_bytes(data, path.name))
        others = Needles(frozenset(n for n in names if n not in own), (PII_KEY, SMTP_PASSWORD))
        assert [f for f in scan_text(text, path.name, others)] == [], f"{path.name} holds other districts' people"


def test_secrets_are_not_in_the_repository() -> None:
    """Neither this run's secrets nor any literal PII key / SMTP password assignment is tracked by git."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    needles = Needles(frozenset(), (PII_KEY[4:], SMTP_PASSWORD[4:]))
    literal = re.compile(r"^\s*(?:export\s+)?FUPIN_(?:PII_KEY|SMTP_PASSWORD)\s*=\s*[^.$\s{]", re.MULTILINE)
    found = []
    for name in filter(None, files):
        path = ROOT / name.decode()
        if not path.is_file() or path.resolve() == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f for f in scan_text(text, name.decode(), needles) if f.kind == "secret"]
        found += [name.decode() for _ in literal.finditer(text)]
    assert found == []
