"""Sessions and one-time set-password links: random tokens, kept in the warehouse only as their hashes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, and_, delete, insert, select, update

from tasks.accounts.tokens import new_token, token_hash
from tasks.accounts.users import User, get_user, now_utc, set_password, utc
from warehouse.schema import app_password_token, app_session


def open_session(engine: Engine, user: User, lifetime: dt.timedelta, address: str | None) -> str:
    """A new session for `user`; returns the token for the cookie (the warehouse keeps its hash)."""
    token, now = new_token(), now_utc()
    with engine.begin() as conn:
        conn.execute(delete(app_session).where(app_session.c.expires_at < now))  # expired ones, by the way
        conn.execute(
            insert(app_session).values(
                token_hash=token_hash(token),
                user_id=user.user_id,
                created_at=now,
                expires_at=now + lifetime,
                address=address,
            )
        )
    return token


def session_user(engine: Engine, token: str | None) -> User | None:
    """The active account a session token belongs to, or None (no such session, expired, or account disabled)."""
    if not token:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(app_session.c.user_id, app_session.c.expires_at).where(app_session.c.token_hash == token_hash(token))
        ).first()
    if row is None or (utc(row.expires_at) or now_utc()) <= now_utc():
        return None
    user = get_user(engine, row.user_id)
    return user if user is not None and user.is_active else None


def close_session(engine: Engine, token: str | None) -> None:
    """Forget a session (sign-out)."""
    if token:
        with engine.begin() as conn:
            conn.execute(delete(app_session).where(app_session.c.token_hash == token_hash(token)))


def issue_password_link(engine: Engine, user: User, lifetime: dt.timedelta) -> str:
    """A one-time token for setting `user`'s password, valid for `lifetime`; earlier unused ones stop working."""
    token, now = new_token(), now_utc()
    with engine.begin() as conn:
        conn.execute(
            update(app_password_token)
            .where(and_(app_password_token.c.user_id == user.user_id, app_password_token.c.used_at.is_(None)))
            .values(used_at=now)
        )
        conn.execute(
            insert(app_password_token).values(
                token_hash=token_hash(token), user_id=user.user_id, created_at=now, expires_at=now + lifetime
            )
        )
    return token


def link_user(engine: Engine, token: str) -> User | None:
    """The account an unused, unexpired set-password token is for, or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(app_password_token).where(app_password_token.c.token_hash == token_hash(token))
        ).first()
    if row is None or row.used_at is not None or (utc(row.expires_at) or now_utc()) <= now_utc():
        return None
    user = get_user(engine, row.user_id)
    return user if user is not None and user.is_active else None


def use_password_link(engine: Engine, token: str, password: str) -> User | None:
    """Set the password through a link, once: the token is spent in the same transaction; None if it is not valid."""
    user = link_user(engine, token)
    if user is None:
        return None
    with engine.begin() as conn:
        spent = conn.execute(
            update(app_password_token)
            .where(and_(app_password_token.c.token_hash == token_hash(token), app_password_token.c.used_at.is_(None)))
            .values(used_at=now_utc())
        ).rowcount
        if not spent:
            return None
        set_password(conn, user, password)
    return user
