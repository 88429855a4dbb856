"""prefect.yaml: every entrypoint imports with the agreed parameters, every schedule fires when the calendar says,
the inbox sweep starts only on files, concurrency is capped, and only failures that are bugs alert."""

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
from fupin.inbox_watch import EVENT, RESOURCE, next_sweep
from fupin.office import POOL_CONCURRENCY

ROOT = Path(__file__).resolve().parents[1]
SPEC = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = {d["name"]: d for d in SPEC["deployments"]}

# The interface contract: entrypoint -> parameter names in order.
CONTRACT = {
    "ingest-inbox": [],
    "ingest-file": ["path", "source"],
    "ingest-labor": ["path", "month", "max_invalid_ratio", "source"],
    "remind-late-units": ["month", "dry_run", "when_due", "today"],
    "monthly-close": ["month", "wait_minutes", "final", "when_due", "today"],
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


def _sweeps(cfg: Config, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """When `fupin serve` looks into the inbox between start and end."""
    out, at = [], next_sweep(start - dt.timedelta(seconds=1), cfg.calendar)
    while at <= end:
        out.append(at)
        at = next_sweep(at, cfg.calendar)
    return out


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
    got = _sweeps(cfg, start, end) if name == "ingest-inbox" else _dates(name, start, end)
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
    assert not set(_sweeps(cfg, start, end)) & set(_dates("monthly-close", start, end))


def test_the_inbox_sweep_runs_on_the_watch_s_event_not_on_a_clock() -> None:
    sweep = DEPLOYMENTS["ingest-inbox"]
    assert not sweep["schedules"]  # an hourly schedule leaves an empty run for every hour the inbox is empty
    (trigger,) = sweep["triggers"]
    assert trigger["expect"] == [EVENT] and trigger["match"] == {"prefect.resource.id": RESOURCE}
    assert (trigger["posture"], trigger["threshold"], trigger["enabled"]) == ("Reactive", 1, True)


def _limit(name: str) -> int:
    spec = DEPLOYMENTS[name]["concurrency_limit"]
    assert spec["collision_strategy"] == "ENQUEUE", name  # a run over the limit waits, it is never dropped
    return spec["limit"]


def test_every_deployment_is_capped_and_the_close_leaves_room_for_the_runs_it_waits_for() -> None:
    limits = {name: _limit(name) for name in DEPLOYMENTS}
    assert all(1 <= n < POOL_CONCURRENCY for n in limits.values()), limits
    assert limits["monthly-close"] + limits["ingest-file"] < POOL_CONCURRENCY
    assert limits["notify-failure"] == 1  # the alert window is decided by one run at a time


def test_failures_of_the_operated_runs_trigger_the_alert() -> None:
    (trigger,) = DEPLOYMENTS["notify-failure"]["triggers"]
    # Events are named after the state's name: a FAILED state named Rejected emits prefect.flow-run.Rejected.
    assert set(trigger["expect"]) == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert set(trigger["match_related"]["prefect.resource.name"]) == {"ingest-file", "ingest-labor", "monthly-close"}
    assert all(name in DEPLOYMENTS for name in trigger["match_related"]["prefect.resource.name"])
    assert trigger["parameters"] == {"flow_run_id": "{{ event.resource.id }}"}
