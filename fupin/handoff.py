"""`fupin ingest` on the machine that runs `fupin serve`: the files go to the platform's warm process, which ingests
them as its own uploads are (each file its own ingest-file run), and the command only relays what it says. This
module stays light on purpose: no pandas, pandera or SQLAlchemy is imported on this path."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import CannotWork, UsageError
from core.served import local_token, served_web_url

ROUTE = "/api/local/ingest"
READ_TIMEOUT = 600.0  # between two lines of the answer: one file, or the scan of a full inbox


class NotHere(Exception):
    """No platform took the files (none recorded, none answering, or it refused the token): ingest in-process."""


@dataclass(frozen=True)
class Platform:
    """The local platform's address and the token that lets this machine's operator hand it files."""

    url: str
    token: str = ""

    def __repr__(self) -> str:  # never the token
        return f"Platform({self.url!r})"


def local_platform(home: Path, prefect_home: Path, environ: Mapping[str, str] | None = None) -> Platform | None:
    """The platform a running `fupin serve` started on this machine, when it answers and its secret is readable."""
    env = os.environ if environ is None else environ
    url = served_web_url(prefect_home)
    if url is None:
        return None
    named = env.get("FUPIN_WEB_SECRET_FILE")
    try:
        secret = (Path(named) if named else home / "secrets" / "web.key").read_bytes().strip()
    except OSError:
        return None
    return Platform(url, local_token(secret))


def hand_off(platform: Platform, paths: list[Path], source: str) -> Iterator[dict[str, Any]]:
    """The platform's events for these files (the inbox when none): {"total"}, {"file", "status"} per file, then
    {"rows"} or {"error", "exit"}. NotHere before anything was handed over; CannotWork when the answer breaks off."""
    body = json.dumps({"paths": [str(p.absolute()) for p in paths], "source": source}).encode()
    request = urllib.request.Request(
        platform.url + ROUTE,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {platform.token}", "Content-Type": "application/json"},
    )
    try:
        answer = urllib.request.urlopen(request, timeout=READ_TIMEOUT)
    except urllib.error.HTTPError as exc:
        if exc.code == 400:
            raise UsageError(_detail(exc)) from None
        raise NotHere(f"HTTP {exc.code}") from None
    except OSError as exc:
        raise NotHere(str(exc)) from None
    ended = False
    try:
        with answer:
            for line in answer:
                event = json.loads(line)
                ended = "rows" in event or "error" in event
                yield event
    except (OSError, ValueError) as exc:
        why = type(exc).__name__
        raise CannotWork(f"平台中断了处理 / the platform broke off ({why}); see FUPIN_HOME/logs/web.log") from None
    if not ended:
        raise CannotWork("平台未说明处理结果 / the platform ended without a result; see FUPIN_HOME/logs/web.log")


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("detail"))
    except (OSError, ValueError, AttributeError):
        return f"HTTP {exc.code}"
