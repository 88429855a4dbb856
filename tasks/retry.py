"""Retry policy: transient failures (database connection, SMTP, network) back off and retry; rejected input never."""
from __future__ import annotations

import smtplib
from typing import Any

from prefect.tasks import exponential_backoff
from sqlalchemy import exc as sa_exc

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError,
    smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError,
)


def is_transient(error: BaseException | None) -> bool:
    """True if the error, or any error it was raised from, is a connection-level failure worth retrying."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, TRANSIENT_ERRORS):
            return True
        if isinstance(error, smtplib.SMTPResponseException) and 400 <= error.smtp_code < 500:
            return True
        seen.add(id(error))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return False


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """A Prefect retry_condition_fn: retry only a transient failure."""
    error = state.data if isinstance(state.data, BaseException) else state.result(raise_on_failure=False)
    return is_transient(error if isinstance(error, BaseException) else None)


def transient_retries(retries: int = 4, backoff_seconds: float = 5.0) -> dict[str, Any]:
    """Task options for `@task(**transient_retries())`: exponential backoff with jitter, transient errors only."""
    return {
        "retries": retries,
        "retry_delay_seconds": exponential_backoff(backoff_factor=backoff_seconds),
        "retry_jitter_factor": 0.5,
        "retry_condition_fn": retry_if_transient,
    }
