"""The operator's own `fupin ingest` hands its files to this warm process when `fupin serve` runs: the command then
answers without importing pandas, pandera and SQLAlchemy each time, and every file still becomes its own ingest-file
run. Only a caller on this machine holding the token derived from the platform's secret gets in."""

from __future__ import annotations

import hmac
import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.responses import Response

from core.errors import EXIT_CANNOT_WORK, FupinError
from core.served import local_token
from flows.runtime import Runtime
from fupin.web.security import address, rt_of, web_of

router = APIRouter(prefix="/api/local")
LOOPBACK = ("127.0.0.1", "::1")
MEDIA = "application/x-ndjson"


def _allowed(request: Request) -> bool:
    given = request.headers.get("authorization", "").removeprefix("Bearer ")
    expected = local_token(web_of(request).secret)
    return address(request) in LOOPBACK and hmac.compare_digest(given.encode(), expected.encode())


def warm_up() -> None:
    """Import the ingest steps once, off the request path, so the first hand-off is as quick as the next."""
    import flows.intake  # noqa: F401
    import tasks.report.check  # noqa: F401


@router.post("/ingest")
async def local_ingest(request: Request) -> Response:
    """NDJSON, one line per event: {"total"}, {"file", "status"} per file, then {"rows"} or {"error", "exit"}."""
    if not _allowed(request):
        return JSONResponse({"detail": "sign in first / 请先登录"}, status_code=401)
    body = await request.json()
    from core.errors import UsageError
    from fupin.ingest_report import expand

    source = str(body.get("source") or "") or None
    paths = [Path(p) for p in body.get("paths") or []]
    try:
        files, refused = expand(paths) if paths else ([], [])
    except UsageError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    return StreamingResponse(_events(rt_of(request), files, refused, source, sweep=not paths), media_type=MEDIA)


def _events(rt: Runtime, files: list[Path], refused: list, source: str | None, sweep: bool) -> Iterator[bytes]:
    """Ingest in a thread of its own (a dropped connection never stops it half-way) and relay what it says."""
    said: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=_ingest, args=(rt, files, refused, source, sweep, said.put), daemon=True).start()
    while (event := said.get()) is not None:
        yield (json.dumps(event, ensure_ascii=False) + "\n").encode()


def _ingest(rt: Runtime, files: list[Path], refused: list, source: str | None, sweep: bool, say: Any) -> None:
    from flows.intake import ingest_paths, sweep_inbox
    from fupin.ingest_report import table_rows
    from tasks.intake.outcome import FileOutcome

    def on_file(outcome: FileOutcome) -> None:
        say({"file": outcome.name, "status": outcome.status})

    try:
        if sweep:
            done = sweep_inbox(rt, lambda n: say({"total": n}), on_file)
            outcomes, refused = done.outcomes, done.refused
        else:
            say({"total": len(files)})
            outcomes = ingest_paths(rt, files, source, on_file)
        say({"rows": table_rows(rt.engine, outcomes, refused)})
    except FupinError as exc:
        say({"error": str(exc), "exit": exc.exit_code})
    except Exception as exc:  # noqa: BLE001 - the command says it could not do the work; the log keeps the rest
        import logging

        logging.getLogger("fupin.web").exception("local ingest crashed")
        say({"error": f"运行出错 / crashed: {type(exc).__name__}", "exit": EXIT_CANNOT_WORK})
    finally:
        say(None)
