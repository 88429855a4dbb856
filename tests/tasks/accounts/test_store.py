"""Accounts, sessions, set-password links and the audit log in a real warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update

from core.errors import FupinError, UsageError
from tasks.accounts import audit
from tasks.accounts.sessions import (
    close_session,
    issue_password_link,
    link_user,
    open_session,
    session_user,
    use_password_link,
)
from tasks.accounts.tokens import token_hash
from tasks.accounts.users import add_user, credentials, find_user, list_users, set_active, set_password
from warehouse.schema import app_password_token, app_session, app_user

HOUR = dt.timedelta(hours=1)


def test_clerks_belong_to_one_unit_and_office_roles_to_none(engine: Engine) -> None:
    clerk = add_user(engine, "CY-Clerk", "clerk", "chaoyang")
    assert (clerk.username, clerk.unit_code, clerk.is_office, clerk.has_password) == (
        "cy-clerk",
        "chaoyang",
        False,
        False,
    )
    assert add_user(engine, "office1", "reviewer").is_office
    with pytest.raises(UsageError):
        add_user(engine, "x-clerk", "clerk")
    with pytest.raises(UsageError):
        add_user(engine, "x-office", "reviewer", "chaoyang")
    with pytest.raises(UsageError):
        add_user(engine, "y-clerk", "clerk", "atlantis")
    with pytest.raises(UsageError):
        add_user(engine, "../bad", "reviewer")
    with pytest.raises(FupinError):
        add_user(engine, "cy-clerk", "clerk", "haidian")
    assert [u.username for u in list_users(engine)] == ["cy-clerk", "office1"]


def test_the_warehouse_keeps_only_hashes(engine: Engine) -> None:
    user = add_user(engine, "cy-clerk", "clerk", "chaoyang")
    set_password(engine, user, "a long enough secret")
    token = open_session(engine, user, HOUR, "10.0.0.1")
    link = issue_password_link(engine, user, HOUR)
    with engine.connect() as conn:
        stored = conn.execute(select(app_user.c.password_hash)).scalar_one()
        sessions = conn.execute(select(app_session.c.token_hash)).scalars().all()
        links = conn.execute(select(app_password_token.c.token_hash)).scalars().all()
    assert stored.startswith("$argon2id$") and "long enough" not in stored
    assert sessions == [token_hash(token)] and links == [token_hash(link)]
    found = credentials(engine, "cy-clerk")
    assert found is not None and found[1] == stored


def test_a_session_ends_on_sign_out_expiry_or_disabling(engine: Engine) -> None:
    user = add_user(engine, "cy-clerk", "clerk", "chaoyang")
    token = open_session(engine, user, HOUR, None)
    assert session_user(engine, token) == user
    assert session_user(engine, "forged") is None
    close_session(engine, token)
    assert session_user(engine, token) is None
    short = open_session(engine, user, -HOUR, None)
    assert session_user(engine, short) is None
    again = open_session(engine, user, HOUR, None)
    set_active(engine, "cy-clerk", False)
    assert session_user(engine, again) is None


def test_a_set_password_link_works_once_and_expires(engine: Engine) -> None:
    user = add_user(engine, "cy-clerk", "clerk", "chaoyang")
    token = issue_password_link(engine, user, HOUR)
    assert link_user(engine, token) == user
    with pytest.raises(UsageError):
        use_password_link(engine, token, "short")
    assert use_password_link(engine, token, "a long enough secret") is not None
    assert use_password_link(engine, token, "another long secret") is None
    found = find_user(engine, "cy-clerk")
    assert found is not None and found.has_password
    late = issue_password_link(engine, user, HOUR)
    with engine.begin() as conn:
        conn.execute(update(app_password_token).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    assert link_user(engine, late) is None
    first, second = issue_password_link(engine, user, HOUR), issue_password_link(engine, user, HOUR)
    assert link_user(engine, first) is None  # a new link voids the old
    assert getattr(link_user(engine, second), "username", None) == "cy-clerk"


def test_the_audit_log_keeps_who_what_when_and_where(engine: Engine) -> None:
    audit.record(engine, audit.Event("refused", "cy-clerk", "10.0.0.9", "chaoyang", None, "file is for haidian"))
    (row,) = audit.recent(engine)
    assert (row["username"], row["action"], row["address"], row["unit_code"]) == (
        "cy-clerk",
        "refused",
        "10.0.0.9",
        "chaoyang",
    )
    assert row["at"] is not None
