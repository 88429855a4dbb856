"""The office's worker: Prefect's own process worker, which also takes a run the moment the server says it is
scheduled (its Scheduled or AwaitingRetry event) instead of at its next poll. The poll stays, as the fallback.

Usage: python -m fupin.office_worker --pool POOL --name NAME (`fupin serve` and `fupin worker` start it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from typing import Any

# A run created from the UI, a Retry, `fupin close` or the inbox watch enters one of these states; a run recorded by
# a sweep is created in its final state and wakes nothing.
WAKE_EVENTS = ["prefect.flow-run.Scheduled", "prefect.flow-run.AwaitingRetry"]
RECONNECT_SECONDS = 5.0
log = logging.getLogger("fupin.office_worker")


async def listen(pool: str, wake: asyncio.Event) -> None:
    """Set `wake` on every wake event of `pool`'s runs, for as long as the worker runs; reconnect when dropped."""
    from prefect.client.orchestration import get_client
    from prefect.events.clients import get_events_subscriber
    from prefect.events.filters import EventAnyResourceFilter, EventFilter, EventNameFilter

    while True:
        try:
            async with get_client() as client:
                pool_id = (await client.read_work_pool(pool)).id
            only = EventFilter(
                event=EventNameFilter(name=WAKE_EVENTS),
                any_resource=EventAnyResourceFilter(id=[f"prefect.work-pool.{pool_id}"]),
            )
            async with get_events_subscriber(filter=only) as events:
                async for _ in events:
                    wake.set()
        except Exception as exc:  # noqa: BLE001 - the poll still finds every run; waking resumes on reconnect
            log.warning("not woken by events for now (%s); polling meanwhile", type(exc).__name__)
            await asyncio.sleep(RECONNECT_SECONDS)


async def submit_on_wake(worker: Any, wake: asyncio.Event) -> None:
    """Ask for scheduled runs each time `wake` is set; events that come while asking make one more ask, not many."""
    while True:
        await wake.wait()
        wake.clear()
        try:
            await worker.get_and_submit_flow_runs()
        except Exception as exc:  # noqa: BLE001 - the next poll asks again
            log.warning("woken, but could not ask for runs (%s)", type(exc).__name__)


async def run_worker(pool: str, name: str) -> None:
    """Prefect's process worker on `pool`, with the wake-up beside it; returns when the worker stops."""
    from prefect.settings import PREFECT_WORKER_HEARTBEAT_SECONDS, PREFECT_WORKER_PREFETCH_SECONDS
    from prefect.workers.process import ProcessWorker

    worker = ProcessWorker(
        name=name,
        work_pool_name=pool,
        prefetch_seconds=PREFECT_WORKER_PREFETCH_SECONDS.value(),
        heartbeat_interval_seconds=int(PREFECT_WORKER_HEARTBEAT_SECONDS.value()),
    )
    wake = asyncio.Event()
    helpers = [asyncio.create_task(listen(pool, wake)), asyncio.create_task(submit_on_wake(worker, wake))]
    try:
        await worker.start(printer=print)
    finally:
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)


async def run_until_signalled(pool: str, name: str) -> None:
    """run_worker until SIGTERM or SIGINT, taken by the event loop: the worker is cancelled between two steps, not
    interrupted inside one (a KeyboardInterrupt in the middle of starting a run was swallowed, and the worker ran on).
    A second signal ends the process at once."""
    loop, main = asyncio.get_running_loop(), asyncio.current_task()
    assert main is not None

    def stop(signum: int) -> None:
        if main.cancelling():
            os._exit(128 + signum)
        print(f"Received {signal.Signals(signum).name}: stopping the worker", flush=True)
        main.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    await run_worker(pool, name)


def main() -> None:
    """Run the worker until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m fupin.office_worker", description=__doc__.splitlines()[0])
    parser.add_argument("--pool", required=True, help="the work pool to take runs from")
    parser.add_argument("--name", required=True, help="the worker's name in the UI")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(run_until_signalled(args.pool, args.name))
    print(f"Worker {args.name!r} stopped!", flush=True)


if __name__ == "__main__":
    main()
