"""Transient failures are retried with backoff; rejected input is final."""

from __future__ import annotations

import smtplib

import pytest
from prefect import task
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from core.errors import FupinError
from core.retry import is_transient, transient_retries


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
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("select 1", {}, ConnectionRefusedError("connection refused")),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    ],
)
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


def _error_of(engine: Engine, *statements: str) -> DBAPIError:
    """The error the database itself raises for the last statement."""
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))
    return caught.value


def _lasting_errors(engine: Engine) -> list[DBAPIError]:
    """What a database refuses the same way however long one waits: a missing table, a broken constraint, and on
    PostgreSQL a statement over its time limit and a figure too large for Numeric(18,4)."""
    errors = [
        _error_of(engine, "select * from no_such_table"),
        _error_of(
            engine,
            "insert into dim_month (month_key, month, year, month_of_year, quarter, deadline) "
            "select month_key, month, year, month_of_year, quarter, deadline from dim_month",
        ),
    ]
    if engine.dialect.name == "postgresql":
        errors.append(_error_of(engine, "set local statement_timeout = '20ms'", "select pg_sleep(1)"))
        errors.append(_error_of(engine, "select cast(1e14 as numeric(18, 4))"))
    return errors


def test_a_database_error_that_will_not_heal_is_final(engine: Engine) -> None:
    errors = _lasting_errors(engine)
    assert {type(e).__name__ for e in errors} >= {"IntegrityError"}
    assert [is_transient(e) for e in errors] == [False] * len(errors), [str(e.orig) for e in errors]
    if engine.dialect.name == "postgresql":
        assert errors[-1].orig.sqlstate == "22003"  # numeric_value_out_of_range


@pytest.mark.prefect
def test_a_missing_table_is_not_retried(prefect_api: None, engine: Engine) -> None:
    step, calls = _flaky(_error_of(engine, "select * from no_such_table"), failures=1)
    with pytest.raises(DBAPIError):
        step()
    assert len(calls) == 1


def test_a_lock_wait_is_transient(engine: Engine, warehouse_url: str) -> None:
    """Another writer holding a lock is a failure that heals: SQLite's 'database is locked', PostgreSQL's 55P03."""
    if engine.dialect.name == "sqlite":
        impatient = create_engine(warehouse_url, connect_args={"timeout": 0.05}, isolation_level="AUTOCOMMIT")
        second = ["begin immediate"]
    else:
        impatient = engine
        second = ["set local lock_timeout = '50ms'", "select * from dim_unit where unit_key = 1 for update"]
    with engine.begin() as holder:
        holder.execute(text("update dim_unit set sort_order = sort_order where unit_key = 1"))
        error = _error_of(impatient, *second)
    assert is_transient(error), str(error.orig)
    impatient.dispose()


def test_call_with_retries_retries_a_busy_api_and_not_a_bad_request() -> None:
    import httpx

    from core.retry import call_with_retries

    def answer(status: int):
        request = httpx.Request("POST", "http://api/flow_runs/")
        return httpx.HTTPStatusError("x", request=request, response=httpx.Response(status, request=request))

    calls: list[int] = []

    def busy_then_ok() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise answer(503)
        return "ok"

    assert call_with_retries(busy_then_ok, attempts=4, backoff_seconds=0.01) == "ok" and len(calls) == 3
    calls.clear()

    def bad() -> None:
        calls.append(1)
        raise answer(422)

    with pytest.raises(httpx.HTTPStatusError):
        call_with_retries(bad, attempts=4, backoff_seconds=0.01)
    assert len(calls) == 1, "a request the server refuses is not retried"

    def reset() -> None:
        calls.append(1)
        raise httpx.ConnectError("connection reset")

    calls.clear()
    with pytest.raises(httpx.ConnectError):
        call_with_retries(reset, attempts=2, backoff_seconds=0.01)
    assert len(calls) == 2
