"""The office's deployments on a real `fupin serve` (server, pool, prefect.yaml, worker): retry, close, alerts, stop."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Cancelled, Scheduled
from sqlalchemy import Engine, select

from config import CONFIG_DIR, Config, load_config
from core.month import month_key
from core.settings import Settings
from fupin.demo.labor import Noise, generate_labor, write_xlsx
from fupin.demo.reports import report_values, write_filled_report
from tasks.intake.claim import claim
from tests.conftest import TEST_PII_KEY
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import dim_unit, fct_publication, fct_submission

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.xdist_group("fupin-serve")]

FUPIN = [sys.executable, "-m", "fupin.cli"]
ALIAS_LINE = "aliases: [市人社局, "  # in config/units.yaml: hr-social-security's alias the test takes away


@dataclass
class Served:
    """A running `fupin serve` and what its flows see."""

    root: Path
    env: dict[str, str]
    port: int
    smtp: Any
    engine: Engine
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def home(self) -> Path:
        return Path(self.env["FUPIN_HOME"])

    @property
    def config_dir(self) -> Path:
        return Path(self.env["FUPIN_CONFIG_DIR"])

    def start(self, timeout: float = 240.0, sigint_ignored: bool = False) -> None:
        """Start `fupin serve`; `sigint_ignored` starts it the way a shell starts a background job."""
        seen = len(self.log())
        log = open(self.root / "serve.log", "ab")  # noqa: SIM115 - handed to the child
        command = FUPIN + ["serve", "--poll-seconds", "1"]
        if sigint_ignored:  # an ignored signal stays ignored across exec, as for `fupin serve &` in a script
            command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
        self.proc = subprocess.Popen(
            command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while "Prefect UI:" not in self.log()[seen:]:
            assert self.proc.poll() is None, f"fupin serve exited {self.proc.returncode}:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"fupin serve not ready after {timeout} s:\n{self.log()[-3000:]}"
            time.sleep(0.5)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(90)
        except subprocess.TimeoutExpired:
            # The server and the worker run in sessions of their own: kill them by id, then fupin serve.
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                child.kill()
            self.proc.kill()
            raise

    def log(self) -> str:
        path = self.root / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _health(url: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as answer:
            return answer.status
    except OSError:
        return None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, module_smtp_inbox, port_factory) -> Iterator[Served]:
    """`fupin serve` on a free port, FUPIN_HOME in a temp folder, config/ copied, SMTP on 127.0.0.1."""
    root = tmp_path_factory.mktemp("office")
    config_dir = root / "config"
    (root / "drop").mkdir()  # files handed to ingest-file / ingest-labor directly, outside the inbox
    shutil.copytree(CONFIG_DIR, config_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    smtp, port = module_smtp_inbox, port_factory()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FUPIN_"))}
    env.update(
        {
            "FUPIN_HOME": str(root / "home"),
            "FUPIN_CONFIG_DIR": str(config_dir),
            "FUPIN_WAREHOUSE_URL": f"sqlite:///{root / 'warehouse.db'}",
            "FUPIN_PII_KEY": TEST_PII_KEY,
            "FUPIN_SMTP_HOST": "127.0.0.1",
            "FUPIN_SMTP_PORT": str(smtp.port),
            "FUPIN_SERVE_PORT": str(port),
            "FUPIN_WEB_PORT": str(port_factory()),
            "FUPIN_ALERT_WINDOW_SECONDS": "0",  # one e-mail per alert here (grouping: test_notify_failure.py)
        }
    )
    engine = make_engine(env["FUPIN_WAREHOUSE_URL"])
    init_warehouse(engine, load_config(config_dir), months=["2020-09", "2020-10"])
    office = Served(root, env, port, smtp, engine)
    office.start()
    try:
        with temporary_settings({PREFECT_API_URL: f"{office.url}/api"}):
            _pause_schedules()
            yield office
    finally:
        if office.proc is not None and office.proc.poll() is None:
            office.stop()
        engine.dispose()


def _pause_schedules() -> None:
    """Switch the calendar schedules off, so a test run on the 1st-10th is not joined by a scheduled sweep."""
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            for schedule in deployment.schedules:
                client.update_deployment_schedule(deployment.id, schedule.id, active=False)


def _wait_final(run_id, timeout: float = 180.0) -> FlowRun:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(run_id)
            if run.state and run.state.is_final():
                return run
            assert time.monotonic() < deadline, f"run {run.name} still {run.state and run.state.name}"
            time.sleep(1)


def _run_processes(run_id) -> list[int]:
    """The processes the worker started for one flow run (they carry its id in their environment)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("PREFECT__FLOW_RUN_ID") == str(run_id):
                found.append(proc.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def _state(run_id) -> str | None:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    return state.type.value if state else None


def _history() -> dict[str, str]:
    """Runs that happened, by id, with their state (future scheduled runs are remade on each deploy)."""
    with get_client(sync_client=True) as client:
        return {str(r.id): r.state.name for r in client.read_flow_runs() if r.state and not r.state.is_scheduled()}


def _logs(run_id) -> str:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    return "\n".join(log.message for log in logs)


def _artifact(key_prefix: str) -> Any:
    """The newest artifact whose key starts with `key_prefix`."""
    with get_client(sync_client=True) as client:
        found = [a for a in client.read_artifacts() if (a.key or "").startswith(key_prefix)]
    assert found, f"no artifact {key_prefix}*"
    return max(found, key=lambda a: a.created)


def _alerts_for(smtp: Any, cfg: Config, run_id, timeout: float = 90.0) -> list:
    def is_alert(m) -> bool:
        return set(m["To"].split(", ")) == set(cfg.mail.operators) and str(run_id) in smtp.text(m)

    return smtp.wait_for(is_alert, timeout=timeout)


def test_a_rejected_file_is_retried_like_the_ui_does_and_loads_after_the_config_fix(served: Served, cfg: Config):
    unit = cfg.unit("hr-social-security")
    units_yaml = served.config_dir / "units.yaml"
    original = units_yaml.read_text(encoding="utf-8")
    assert ALIAS_LINE in original
    units_yaml.write_text(original.replace(ALIAS_LINE, "aliases: ["), encoding="utf-8")
    path = write_filled_report(
        cfg, unit, "2020-09", served.root / "drop" / "2020-09_人社局月报.xlsx", no_marker=True, unit_text="市人社局"
    )

    first = run_deployment("ingest-file/ingest-file", parameters={"path": str(path)}, timeout=180)

    assert first.state.is_failed() and first.state.name == "Rejected", first.state
    assert first.run_count == 1  # a rejection is final: no automatic retry
    assert "市人社局" in first.state.message and "units.yaml" in first.state.message
    assert "\n" not in first.state.message, "a rejection is one line, not a traceback"
    assert "Traceback" not in _logs(first.id)
    warm_log = (served.home / "logs" / "warm.log").read_text(encoding="utf-8")
    assert f"run {first.id} forked" in warm_log, "the run was forked from the warm process, not started cold"

    units_yaml.write_text(original, encoding="utf-8")
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(first.id, Scheduled(name="AwaitingRetry"), force=True)
    retried = _wait_final(first.id)

    assert retried.state.is_completed(), retried.state
    assert retried.run_count == 2
    assert retried.name == f"ingest-file {unit.name} 2020-09 {path.name}"
    assert {f"unit:{unit.code}", "month:2020-09", "form:report"} <= set(retried.tags)
    assert "重试成功" in _artifact("retry-").data, "a run that succeeds on retry says so"
    assert not _alerts_for(served.smtp, cfg, first.id, timeout=5), "a rejection is an outcome, not an alert"
    expected = report_values(cfg, unit, "2020-09").set_index("row_no")
    with served.engine.connect() as conn:
        rejected, sub = conn.execute(
            select(fct_submission)
            .where(fct_submission.c.original_name == path.name)
            .order_by(fct_submission.c.submission_id)
        ).all()
        loaded = conn.exec_driver_sql(
            "select row_no, region, value from v_indicator_value where unit_code = ? and month = '2020-09'",
            (unit.code,),
        ).all()
    assert (sub.status, sub.version, sub.is_current) == ("accepted", 1, True)
    assert rejected.status == "rejected", "the retry keeps the earlier attempt's rejection"
    got = {(r.row_no, r.region): r.value for r in loaded}
    want = {(row, col): expected.at[row, col] for row in expected.index for col in cfg.columns(unit.form_code)}
    assert got == pytest.approx(want)


def test_b_monthly_close_publishes_the_good_file_reports_the_bad_one_and_alerts(served: Served, cfg: Config):
    month = "2020-10"
    good, bad = cfg.unit("dongcheng"), cfg.unit("xicheng")
    inbox = served.home / "inbox"
    write_filled_report(cfg, good, month, inbox / f"{month}_{good.code}.xlsx")
    write_filled_report(cfg, bad, month, inbox / f"{month}_{bad.code}.xlsx", cells={(1, cfg.total_column): "很多"})

    close = run_deployment("monthly-close/monthly-close", parameters={"month": month}, timeout=300)

    assert close.state.is_completed(), close.state
    with served.engine.connect() as conn:
        subs = {
            r.unit_code: r
            for r in conn.execute(
                select(dim_unit.c.unit_code, fct_submission.c.submission_id, fct_submission.c.status)
                .join(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key)
                .where(fct_submission.c.month_key == month_key(month))
            )
        }
        (publication,) = conn.execute(select(fct_publication).where(fct_publication.c.month_key == month_key(month)))
    assert subs[good.code].status == "accepted" and subs[bad.code].status == "rejected"
    assert json.loads(publication.submission_ids) == [subs[good.code].submission_id]
    assert (served.home / publication.path).is_file()

    published = served.smtp.wait_for(
        lambda m: set(cfg.mail.office) <= set(m["To"].split(", ")) and month in m["Subject"]
    )
    assert published and any(part.get_filename() for part in published[0].iter_attachments())
    rejection = served.smtp.wait_for(lambda m: m["To"] == bad.email)
    assert rejection, [m["To"] for m in served.smtp.messages]
    with get_client(sync_client=True) as client:
        children = [r for r in client.read_flow_runs() if r.parameters.get("path", "").endswith(f"{bad.code}.xlsx")]
    (failed_child,) = children
    assert failed_child.state.is_failed() and failed_child.state.name == "Rejected"
    assert failed_child.name == f"ingest-file {bad.name} {month} {month}_{bad.code}.xlsx"
    assert failed_child.deployment_id is not None, "a recorded run is the deployment's, so the UI can retry it"
    assert (inbox / "rejected" / f"{month}_{bad.code}.xlsx").is_file()
    assert (inbox / "done" / f"{month}_{good.code}.xlsx").is_file()
    assert "合计" in _artifact("rejection-").data
    table = _artifact(f"monthly-close-{month}")
    assert table.type == "table"
    rows = {r["单位 unit"]: r for r in json.loads(table.data)}
    assert rows[bad.name]["状态 state"] == "退回 rejected"
    assert rows[bad.name]["运行 run"] == f"{served.url}/runs/flow-run/{failed_child.id}"
    assert rows[good.name]["状态 state"] == "已接收 accepted v1" and rows[good.name]["版本 version"] == 1
    assert not _alerts_for(served.smtp, cfg, failed_child.id, timeout=5)


def test_b2_the_close_fails_loudly_on_an_open_file_run_and_retries_a_crashed_one(served: Served, cfg: Config):
    from prefect.states import Crashed, Running

    month, unit = "2020-11", cfg.unit("miyun")
    path = write_filled_report(cfg, unit, month, served.root / "drop" / f"{month}_{unit.code}.xlsx")
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("ingest-file/ingest-file")
        stuck = client.create_flow_run_from_deployment(
            deployment.id,
            parameters={"path": str(path)},
            state=Running(),
            tags=[f"unit:{unit.code}", f"month:{month}", "form:report"],
        )

    close = run_deployment(
        "monthly-close/monthly-close", parameters={"month": month, "wait_minutes": 0.05}, timeout=300
    )

    assert close.state.is_failed() and unit.name in close.state.message and "not published" in close.state.message
    rows = {r["单位 unit"]: r for r in json.loads(_artifact(f"monthly-close-{month}").data)}
    assert rows[unit.name]["状态 state"] == "处理中 pending"
    with served.engine.connect() as conn:
        assert not conn.execute(select(fct_publication).where(fct_publication.c.month_key == month_key(month))).all()

    with get_client(sync_client=True) as client:  # the run's process died: Prefect marks it Crashed
        client.set_flow_run_state(stuck.id, Crashed(message="process killed"), force=True)
    close = run_deployment("monthly-close/monthly-close", parameters={"month": month}, timeout=300)

    assert close.state.is_completed(), close.state
    retried = _wait_final(stuck.id)
    assert retried.state.is_completed(), "the close started the crashed run again"
    rows = {r["单位 unit"]: r for r in json.loads(_artifact(f"monthly-close-{month}").data)}
    assert rows[unit.name]["状态 state"] == "已接收 accepted v1"
    with served.engine.connect() as conn:
        assert conn.execute(select(fct_publication).where(fct_publication.c.month_key == month_key(month))).all()


def test_a_labor_file_with_a_few_bad_rows_is_rejected_and_accepted_by_a_custom_run(served: Served, cfg: Config):
    people = generate_labor(
        cfg, {"朝阳区": 12, "海淀区": 6}, {("河北省", "张家口市", "蔚县"): 2}, Noise(invalid_ids=2), seed=6
    )
    path = write_xlsx(people, served.root / "drop" / "人社局_2020-09.xlsx")
    params = {"path": str(path), "month": "2020-09"}

    strict = run_deployment("ingest-labor/ingest-labor", parameters=params, timeout=180)

    assert strict.state.name == "Rejected" and "max_invalid_ratio" in strict.state.message, strict.state
    assert "Traceback" not in _logs(strict.id)
    tolerant = run_deployment("ingest-labor/ingest-labor", parameters={**params, "max_invalid_ratio": 0.2}, timeout=180)
    assert tolerant.state.is_completed(), tolerant.state
    assert not _alerts_for(served.smtp, cfg, strict.id, timeout=5), "a rejected file is an outcome, not an alert"
    assert not _alerts_for(served.smtp, cfg, tolerant.id, timeout=1)


def test_a_killed_run_is_crashed_and_the_operators_hear_of_it(served: Served, cfg: Config):
    path = write_filled_report(cfg, cfg.unit("chaoyang"), "2020-06", served.root / "drop" / "killed.xlsx")
    archive = Settings.from_env(served.env).paths.archive
    # Holding the file's claim (as another run would) keeps the run waiting, so it is surely running when killed.
    with claim(archive, hashlib.sha256(path.read_bytes()).hexdigest()) as held:
        assert held
        run = run_deployment("ingest-file/ingest-file", parameters={"path": str(path)}, timeout=0)
        deadline = time.monotonic() + 180
        while not (pids := _run_processes(run.id)) or _state(run.id) != "RUNNING":
            assert time.monotonic() < deadline, "the flow-run process never started"
            time.sleep(0.5)
        time.sleep(1)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # a warm-forked run dies with the command that asked for it
                os.kill(pid, signal.SIGKILL)

    crashed = _wait_final(run.id)

    assert crashed.state.is_crashed(), crashed.state
    (alert,) = _alerts_for(served.smtp, cfg, run.id)
    assert "Crashed" in alert["Subject"] and "status code" in served.smtp.text(alert)


def test_ingest_on_the_serving_machine_hands_its_files_to_the_warm_platform(served: Served, cfg: Config):
    unit, month = cfg.unit("fengtai"), "2020-09"
    good = write_filled_report(cfg, unit, month, served.root / "drop" / f"handoff_{unit.code}.xlsx")
    bad = write_filled_report(
        cfg, unit, month, served.root / "drop" / f"handoff_bad_{unit.code}.xlsx", cells={(1, cfg.total_column): "很多"}
    )
    web_log = served.home / "logs" / "web.log"
    before = web_log.read_text(errors="replace").count("POST /api/local/ingest")

    # -X importtime lists every module the command imported: the hand-off path must not load the data stack.
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "fupin.cli", "ingest", str(good)],
        env=served.env | {"COLUMNS": "200"},
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "accepted" in done.stdout and unit.name in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert not {"pandas", "pandera", "sqlalchemy", "openpyxl", "prefect"} & imported, "the hand-off stays light"
    assert web_log.read_text(errors="replace").count("POST /api/local/ingest") == before + 1
    with get_client(sync_client=True) as client:
        names = [r.name for r in client.read_flow_runs(limit=200)]
    assert f"ingest-file {unit.name} {month} {good.name}" in names, "each file is still its own run"

    rejected = subprocess.run(
        FUPIN + ["ingest", str(bad)],
        env=served.env | {"COLUMNS": "200"},
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert "rejected" in rejected.stdout and "Traceback" not in rejected.stdout + rejected.stderr
    missing = subprocess.run(
        FUPIN + ["ingest", str(served.root / "drop" / "no-such.xlsx")],
        env=served.env,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert web_log.read_text(errors="replace").count("POST /api/local/ingest") == before + 3

    web_url = json.loads((served.home / "prefect" / "served.json").read_text(encoding="utf-8"))["web_url"]
    forged = urllib.request.Request(
        f"{web_url}/api/local/ingest",
        data=json.dumps({"paths": [str(good)]}).encode(),
        headers={"Authorization": "Bearer " + "0" * 64, "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    assert refused.value.code == 401, "without the token derived from the platform's secret, nothing is handed over"


def test_c_serve_answers_health_stops_cleanly_and_finds_its_history_again(served: Served):
    assert _health(served.url) == 200
    with urllib.request.urlopen(served.url, timeout=5) as ui:
        assert ui.status == 200 and b"<html" in ui.read(4096).lower()
    with get_client(sync_client=True) as client:  # a run of its own, settled without a worker, besides the others
        deployment = client.read_deployment_by_name("monthly-close/monthly-close")
        mine = client.create_flow_run_from_deployment(deployment.id, state=Cancelled(message="history marker"))
    before = _history()
    assert str(mine.id) in before

    assert served.stop() == 0
    assert _health(served.url) is None
    assert "stopped." in served.log()

    served.start(sigint_ignored=True)
    assert _health(served.url) == 200
    assert set(before) <= set(_history())
    with get_client(sync_client=True) as client:  # deployed again from prefect.yaml, anchors merged, schedules on
        close = client.read_deployment_by_name("monthly-close/monthly-close")
    ((schedule, active),) = [(s.schedule, s.active) for s in close.schedules]
    assert (schedule.cron, schedule.timezone, schedule.day_or, active) == ("0 18 9 * *", "Asia/Shanghai", False, True)
    assert close.work_pool_name == "fupin"
    started = time.monotonic()
    assert served.stop(signal.SIGINT) == 0  # Ctrl-C works even for a background start
    assert time.monotonic() - started < 30 and _health(served.url) is None  # ignored, it would take 40 s+
