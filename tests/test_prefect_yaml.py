"""prefect.yaml: every entrypoint imports with the agreed parameters, every schedule fires when the calendar says."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
from prefect.flows import Flow, load_flow_from_entrypoint
from prefect.server.schemas.schedules import CronSchedule

from config import Config

ROOT = Path(__file__).resolve().parents[1]
SPEC = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = {d["name"]: d for d in SPEC["deployments"]}

# The interface contract: entrypoint -> parameter names in order.
CONTRACT = {
    "ingest-inbox": [],
    "ingest-file": ["path", "source"],
    "ingest-labor": ["path", "month", "max_invalid_ratio", "source"],
    "remind-late-units": ["month", "dry_run", "when_due", "today"],
    "monthly-close": ["month"],
    "notify-failure": ["flow_run_id"],
}


def test_the_office_deployments_are_declared() -> None:
    assert set(DEPLOYMENTS) == set(CONTRACT)
    pools = {d["work_pool"]["name"] for d in DEPLOYMENTS.values()}
    assert pools == {"fupin"}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_entrypoint_imports_with_the_agreed_parameters(name: str) -> None:
    deployment = DEPLOYMENTS[name]
    flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
    assert isinstance(flow, Flow)
    assert list(inspect.signature(flow.fn).parameters) == CONTRACT[name]


def _dates(name: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    (config,) = DEPLOYMENTS[name]["schedules"]
    schedule = _schedule_config_to_deployment_schedule(config)["schedule"]
    server = CronSchedule(cron=schedule.cron, timezone=schedule.timezone, day_or=schedule.day_or)
    return asyncio.run(server.get_dates(start=start, end=end))


def _calendar(tz: ZoneInfo, start: dt.date, end: dt.date, days: set[int], hours: set[int], minute: int = 0):
    out, day = [], start
    while day < end:
        if day.day in days:
            out += [dt.datetime(day.year, day.month, day.day, h, minute, tzinfo=tz) for h in sorted(hours)]
        day += dt.timedelta(days=1)
    return out


# Across a year end and a February, in the office's time zone.
WINDOW = (dt.date(2026, 12, 1), dt.date(2027, 3, 1))


@pytest.mark.parametrize("name", ["ingest-inbox", "remind-late-units", "monthly-close"])
def test_schedule_fires_on_the_days_of_the_calendar(name: str, cfg: Config) -> None:
    tz = ZoneInfo(cfg.calendar.timezone)
    start = dt.datetime.combine(WINDOW[0], dt.time(), tz)
    end = dt.datetime.combine(WINDOW[1], dt.time(), tz) - dt.timedelta(seconds=1)
    close_hour, close_minute = map(int, cfg.calendar.close_time.split(":"))
    expected = {
        "ingest-inbox": _calendar(tz, *WINDOW, set(range(1, cfg.calendar.deadline_day + 1)), set(range(24)), 30),
        "remind-late-units": _calendar(tz, *WINDOW, {cfg.calendar.reminder_day}, {9}),
        "monthly-close": _calendar(tz, *WINDOW, {cfg.calendar.close_day}, {close_hour}, close_minute),
    }[name]
    got = _dates(name, start, end)
    assert [d.astimezone(tz) for d in got] == expected
    assert all(str(d.tzinfo) == cfg.calendar.timezone for d in got)


def test_schedules_are_in_the_office_time_zone_with_day_and(cfg: Config) -> None:
    for name, deployment in DEPLOYMENTS.items():
        for config in deployment.get("schedules") or []:
            assert config["timezone"] == cfg.calendar.timezone, name
            assert config["day_or"] is False, name


def test_the_inbox_sweep_never_starts_with_the_close(cfg: Config) -> None:
    tz = ZoneInfo(cfg.calendar.timezone)
    start, end = (dt.datetime.combine(day, dt.time(), tz) for day in WINDOW)
    assert not set(_dates("ingest-inbox", start, end)) & set(_dates("monthly-close", start, end))


def test_failures_of_the_operated_runs_trigger_the_alert() -> None:
    (trigger,) = DEPLOYMENTS["notify-failure"]["triggers"]
    assert set(trigger["expect"]) == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert set(trigger["match_related"]["prefect.resource.name"]) == {"ingest-file", "ingest-labor", "monthly-close"}
    assert all(name in DEPLOYMENTS for name in trigger["match_related"]["prefect.resource.name"])
    assert trigger["parameters"] == {"flow_run_id": "{{ event.resource.id }}"}
