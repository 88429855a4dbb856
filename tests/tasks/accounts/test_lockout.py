"""The lockout policy: attempts slow down after a few failures, then the account locks for a while."""

from __future__ import annotations

import datetime as dt

from tasks.accounts.lockout import Failures, LockoutPolicy, after_failure, may_attempt

T0 = dt.datetime(2020, 10, 5, 9, 0, tzinfo=dt.UTC)
POLICY = LockoutPolicy(
    slow_after=3, first_delay=dt.timedelta(seconds=2), lock_after=6, lock_for=dt.timedelta(minutes=15)
)


def fail(n: int, step: dt.timedelta = dt.timedelta(minutes=5)) -> Failures:
    state, now = Failures(), T0
    for _ in range(n):
        state = after_failure(state, now, POLICY)
        now += step
    return state


def test_a_few_failures_cost_nothing() -> None:
    state = fail(2)
    assert state.count == 2 and state.locked_until is None
    assert may_attempt(state, state.last_at, POLICY).allowed  # type: ignore[arg-type]


def test_after_the_third_failure_each_attempt_waits_longer() -> None:
    third = fail(3)
    assert not may_attempt(third, third.last_at + dt.timedelta(seconds=1), POLICY).allowed  # type: ignore[operator]
    assert may_attempt(third, third.last_at + dt.timedelta(seconds=2), POLICY).allowed  # type: ignore[operator]
    fourth = fail(4)
    waiting = may_attempt(fourth, fourth.last_at + dt.timedelta(seconds=2), POLICY)  # type: ignore[operator]
    assert not waiting.allowed and waiting.wait_seconds == 2 and not waiting.locked


def test_enough_failures_lock_the_account_until_the_lock_runs_out() -> None:
    state = fail(6)
    assert state.locked_until == state.last_at + POLICY.lock_for  # type: ignore[operator]
    during = may_attempt(state, state.last_at + dt.timedelta(minutes=14), POLICY)  # type: ignore[operator]
    assert not during.allowed and during.locked and during.wait_seconds == 60
    after = state.last_at + dt.timedelta(minutes=15)  # type: ignore[operator]
    assert may_attempt(state, after, POLICY).allowed
    assert after_failure(state, after, POLICY) == Failures(1, after, None)  # the count starts again


def test_the_delay_is_capped() -> None:
    assert POLICY.delay(100) == POLICY.max_delay
    assert POLICY.delay(0) == dt.timedelta(0)
