"""Repeated failed sign-ins slow down, then lock the account for a while: the decision, from counts and times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class LockoutPolicy:
    """After `slow_after` failures each attempt must wait longer (doubling from `first_delay`, up to `max_delay`);
    after `lock_after` failures the account is locked for `lock_for`."""

    slow_after: int = 3
    first_delay: dt.timedelta = dt.timedelta(seconds=2)
    max_delay: dt.timedelta = dt.timedelta(seconds=60)
    lock_after: int = 10
    lock_for: dt.timedelta = dt.timedelta(minutes=15)

    def delay(self, failures: int) -> dt.timedelta:
        """How long after the last failure the next attempt may come."""
        if failures < self.slow_after:
            return dt.timedelta(0)
        return min(self.first_delay * 2 ** min(failures - self.slow_after, 30), self.max_delay)


@dataclass(frozen=True)
class Attempt:
    """Whether an attempt may be checked now; when not, how many seconds to wait and whether it is a lock."""

    allowed: bool
    wait_seconds: int = 0
    locked: bool = False


@dataclass(frozen=True)
class Failures:
    """An account's failed sign-ins: how many in a row, the last one, and a lock's end."""

    count: int = 0
    last_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None


def _seconds(delta: dt.timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def may_attempt(state: Failures, now: dt.datetime, policy: LockoutPolicy) -> Attempt:
    """May a password be checked for this account now? Not while locked, nor sooner than the slow-down allows."""
    if state.locked_until is not None and now < state.locked_until:
        return Attempt(False, _seconds(state.locked_until - now), locked=True)
    if state.locked_until is not None:
        return Attempt(True)  # a lock that has run out starts the count again (see after_failure)
    if state.last_at is not None and (ready := state.last_at + policy.delay(state.count)) > now:
        return Attempt(False, _seconds(ready - now))
    return Attempt(True)


def after_failure(state: Failures, now: dt.datetime, policy: LockoutPolicy) -> Failures:
    """The account's state after one more wrong password."""
    count = 1 if state.locked_until is not None and now >= state.locked_until else state.count + 1
    locked = now + policy.lock_for if count >= policy.lock_after else None
    return Failures(count, now, locked)
