"""Retry policy: transient failures (database connection, lock, serialisation; SMTP; network) back off and retry;
rejected input, and a database error that will not heal with time (bad data, a broken constraint, bad SQL), never."""

from __future__ import annotations

import random
import smtplib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
)
# PostgreSQL SQLSTATEs that heal with time: connection exceptions (class 08), serialisation failure and deadlock
# (40), lock not available, too many connections, and a server shutting down or starting up.
TRANSIENT_SQLSTATE_CLASSES = ("08", "40")
TRANSIENT_SQLSTATES = frozenset({"55P03", "53300", "57P01", "57P02", "57P03"})
# SQLite says it only in words; these are what another writer or a brief outage causes.
TRANSIENT_SQLITE = ("database is locked", "database table is locked", "unable to open database file", "disk i/o error")
DRIVERS = ("psycopg", "sqlite3")
# A busy or restarting API server: Prefect's answers 503, and 500 when its SQLite database was locked.
TRANSIENT_HTTP = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")


def _driver_transient(orig: BaseException | None) -> bool:
    """Whether a database driver's own error heals with time: by its SQLSTATE, else by its DB-API class."""
    if isinstance(orig, ConnectionError | TimeoutError):
        return True
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES
    names = {c.__name__ for c in type(orig).__mro__}
    if "InterfaceError" in names:
        return True
    if "OperationalError" not in names:
        return False  # DataError, IntegrityError, ProgrammingError, ...: the same statement fails the same way
    if type(orig).__module__.startswith("sqlite3"):
        return any(words in str(orig).lower() for words in TRANSIENT_SQLITE)
    return True  # no SQLSTATE: the server never answered (refused, reset, closed)


def _http_transient(error: BaseException) -> bool | None:
    """An HTTP client's error (httpx, and Prefect's subclass of it): a lost connection or a busy server heals."""
    names = {c.__name__ for c in type(error).__mro__}
    if "TransportError" in names:
        return True
    if "HTTPStatusError" in names:
        status = getattr(getattr(error, "response", None), "status_code", 0)
        return status in TRANSIENT_HTTP
    return None


def _decision(error: BaseException) -> bool | None:
    """True or False when this error decides, None to look at what it was raised from."""
    http = _http_transient(error)
    if http is not None:
        return http
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or _driver_transient(error.orig)
    if type(error).__module__.startswith(DRIVERS):
        return _driver_transient(error)
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    if isinstance(error, smtplib.SMTPResponseException) and 400 <= error.smtp_code < 500:
        return True
    return None


def is_transient(error: BaseException | None) -> bool:
    """True if the first error in the chain that decides (this one, or what it was raised from) is worth retrying."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        decided = _decision(error)
        if decided is not None:
            return decided
        seen.add(id(error))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return False


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """A Prefect retry_condition_fn: retry only a transient failure."""
    error = state.data if isinstance(state.data, BaseException) else state.result(raise_on_failure=False)
    return is_transient(error if isinstance(error, BaseException) else None)


def transient_retries(retries: int = 4, backoff_seconds: float = 5.0) -> dict[str, Any]:
    """Task options for `@task(**transient_retries())`: exponential backoff with jitter, transient errors only."""
    from prefect.tasks import exponential_backoff

    return {
        "retries": retries,
        "retry_delay_seconds": exponential_backoff(backoff_factor=backoff_seconds),
        "retry_jitter_factor": 0.5,
        "retry_condition_fn": retry_if_transient,
    }


def call_with_retries(
    fn: Callable[..., T], /, *args: Any, attempts: int = 4, backoff_seconds: float = 0.5, **kwargs: Any
) -> T:
    """Call fn; on a transient error back off (exponential, with jitter) and try again, at most `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            time.sleep(backoff_seconds * 2 ** (attempt - 1) * (1 + random.random() / 2))
    raise AssertionError("unreachable")  # the loop returns or raises
