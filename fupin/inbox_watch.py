"""`fupin serve`'s hourly look at the inbox: a Prefect event when files wait there, so an empty inbox leaves no run.

From the 1st to the deadline day, at half past each hour (office time), the watch lists the drop folders without
reading a file. Only when a file waits that it has not announced before (by path, size and modification time) does
it emit `fupin.inbox.files-arrived`; prefect.yaml's trigger on that event starts the ingest-inbox deployment, which
hashes, deduplicates and ingests as before. A file left behind is swept again by monthly-close, or when `fupin
serve` starts again (the watch's memory is its process).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from config.model import Calendar
from tasks.intake.provenance import unit_folders
from tasks.intake.received import drop_folder
from tasks.report.workbook import SUFFIXES

EVENT = "fupin.inbox.files-arrived"
RESOURCE = "fupin.inbox"
SWEEP_MINUTE = 30
RETRY_AFTER = dt.timedelta(minutes=1)


def next_sweep(after: dt.datetime, calendar: Calendar) -> dt.datetime:
    """The first half past an hour strictly after `after`, on a day from the 1st to the deadline day, office time."""
    tz = ZoneInfo(calendar.timezone)
    at = after.astimezone(tz).replace(minute=SWEEP_MINUTE, second=0, microsecond=0)
    if at <= after:
        at += dt.timedelta(hours=1)
    if at.day > calendar.deadline_day:
        first = (at.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        at = first.replace(hour=0, minute=SWEEP_MINUTE)
    return at


def waiting_files(inbox: Path, unit_codes: Collection[str]) -> list[Path]:
    """Workbooks in the inbox and in the units' own folders, listed but not read (done/ and rejected/ not looked at)."""
    if not inbox.is_dir():
        return []
    found: list[Path] = []
    for folder in (inbox, *unit_folders(inbox, unit_codes)):
        files, refused = drop_folder(folder, SUFFIXES)
        found += files + [r.path for r in refused]  # the sweep reports refusals, so they count as waiting too
    return found


def fingerprint(path: Path) -> tuple[str, int, int] | None:
    """What tells a new or changed file from one already announced (None: it went away meanwhile)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return str(path), st.st_size, st.st_mtime_ns


def announce(api_url: str, files: int, timeout: float = 10.0) -> None:
    """Emit the files-arrived event to the Prefect API (raises OSError when the server does not take it)."""
    event = {
        "id": str(uuid.uuid4()),
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": EVENT,
        "resource": {"prefect.resource.id": RESOURCE, "prefect.resource.name": "inbox"},
        "payload": {"files": files},
    }
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}/events",
        data=json.dumps([event]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        if answer.status >= 300:
            raise OSError(f"the Prefect API answered {answer.status} to {EVENT}")


@dataclass
class InboxWatch:
    """When the next look is due, and the look itself."""

    inbox: Path
    unit_codes: frozenset[str]
    calendar: Calendar
    api_url: str
    due: dt.datetime
    announced: set[tuple[str, int, int]] = field(default_factory=set)

    @classmethod
    def starting(cls, inbox: Path, unit_codes: Collection[str], calendar: Calendar, api_url: str) -> InboxWatch:
        return cls(inbox, frozenset(unit_codes), calendar, api_url, next_sweep(dt.datetime.now(dt.UTC), calendar))

    def tick(self, now: dt.datetime) -> int | None:
        """Look when due: the number of new waiting files announced (0: nothing sent), None when not due yet. A
        failed announcement is tried again a minute later."""
        if now < self.due:
            return None
        seen = {f for f in map(fingerprint, waiting_files(self.inbox, self.unit_codes)) if f is not None}
        new = seen - self.announced
        try:
            if new:
                announce(self.api_url, len(new))
        except OSError:
            self.due = now + RETRY_AFTER
            raise
        self.announced = seen  # files gone from the inbox are forgotten
        self.due = next_sweep(now, self.calendar)
        return len(new)
