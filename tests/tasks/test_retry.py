"""Transient failures are retried with backoff; rejected input is final."""
from __future__ import annotations

import smtplib

import pytest
from prefect import task
from sqlalchemy.exc import OperationalError

from fupin.errors import FupinError
from tasks.retry import is_transient, transient_retries


def _flaky(error: BaseException, failures: int):
    calls: list[int] = []

    @task(**transient_retries(retries=3, backoff_seconds=0), persist_result=False)
    def step() -> int:
        calls.append(1)
        if len(calls) <= failures:
            raise error
        return len(calls)

    return step, calls


@pytest.mark.prefect
@pytest.mark.parametrize("error", [
    OperationalError("select 1", {}, ConnectionRefusedError("connection refused")),
    smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
])
def test_a_transient_failure_is_retried_until_it_passes(prefect_api: None, error: BaseException) -> None:
    step, calls = _flaky(error, failures=2)
    assert step() == 3
    assert len(calls) == 3


@pytest.mark.prefect
def test_rejected_input_is_not_retried(prefect_api: None) -> None:
    step, calls = _flaky(FupinError("表1 E7: 合计 is not a number"), failures=1)
    with pytest.raises(FupinError):
        step()
    assert len(calls) == 1


def test_the_cause_decides() -> None:
    try:
        try:
            raise ConnectionResetError("reset by peer")
        except ConnectionResetError as exc:
            raise FupinError("could not load the warehouse") from exc
    except FupinError as wrapped:
        assert is_transient(wrapped)
    try:
        try:
            raise ConnectionResetError("reset by peer")
        except ConnectionResetError:
            raise FupinError("表1 E7 is not a number") from None
    except FupinError as final:
        assert not is_transient(final)
    assert is_transient(smtplib.SMTPResponseException(421, b"try later"))
    assert not is_transient(smtplib.SMTPResponseException(550, b"no such user"))
    assert not is_transient(ValueError("bad cell"))
