"""The final states a file's run can end in: Completed, Failed named Rejected (an expected outcome), Crashed."""

from __future__ import annotations

import logging
from typing import Any

REJECTED = "Rejected"
ENGINE_LOGGERS = ("prefect.flow_runs", "prefect.engine")


class RejectedFile(Exception):
    """A rejected file, carried as a Rejected state's data: Prefect raises it when it reads the state's result,
    and QuietRejections keeps its log to the one-line reason."""


def final_state(status: str, message: str, data: Any = None) -> Any:
    """The Prefect state for a file's status; a rejection is a FAILED state named Rejected, never an exception.
    `data` is what a completed run returns to its caller."""
    from prefect.states import Completed, Crashed, Failed

    if status in ("accepted", "duplicate"):
        return Completed(message=message, data=data)
    if status == "crashed":
        return Crashed(message=message)
    return Failed(name=REJECTED, message=message, data=RejectedFile(message))


class QuietRejections(logging.Filter):
    """Prefect logs every failed run's end with a traceback; a rejection is an outcome, so its record keeps only
    the one-line reason. Tracebacks stay for bugs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RejectedFile):
            record.msg, record.args = "退回 / Rejected: %s", (str(error),)
            record.exc_info, record.exc_text, record.levelno, record.levelname = None, None, logging.INFO, "INFO"
        return True


def quiet_rejections() -> None:
    """Install QuietRejections on Prefect's engine loggers, once per process."""
    for name in ENGINE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietRejections) for f in logger.filters):
            logger.addFilter(QuietRejections())
