"""Platform accounts in the warehouse: add, find, list, disable, set a password, count failed sign-ins."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import as_utc
from core.errors import FupinError, UsageError
from tasks.accounts.lockout import Failures
from tasks.accounts.passwords import hash_password, password_problem
from warehouse.schema import app_user, dim_unit

ROLES = ("clerk", "reviewer", "admin")
OFFICE_ROLES = ("reviewer", "admin")
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class User:
    """An account as the platform acts on it (never its password hash)."""

    user_id: int
    username: str
    role: str
    unit_code: str | None
    email: str | None
    is_active: bool
    has_password: bool

    @property
    def is_office(self) -> bool:
        return self.role in OFFICE_ROLES


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as an aware UTC time (SQLite gives them back without their zone)."""
    return None if value is None else as_utc(value).astimezone(dt.UTC)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _query():
    u = app_user
    return select(
        u.c.user_id,
        u.c.username,
        u.c.role,
        dim_unit.c.unit_code,
        u.c.email,
        u.c.is_active,
        u.c.password_hash,
        u.c.failed_logins,
        u.c.last_failed_at,
        u.c.locked_until,
    ).outerjoin(dim_unit, dim_unit.c.unit_key == u.c.unit_key)


def _user(row) -> User:
    return User(row.user_id, row.username, row.role, row.unit_code, row.email, row.is_active, bool(row.password_hash))


def check_username(name: str) -> str:
    """A user name as stored: lower case letters, digits, . _ -; 3 to 64 characters."""
    folded = name.strip().lower()
    if not 3 <= len(folded) <= 64 or not set(folded) <= USERNAME_CHARS:
        raise UsageError(
            f"用户名只能由小写字母、数字和 . _ - 组成,3 至 64 个字符 / a user name is 3-64 of a-z 0-9 . _ -: {name!r}"
        )
    return folded


def add_user(engine: Engine, username: str, role: str, unit_code: str | None = None, email: str | None = None) -> User:
    """A new account without a password; a clerk belongs to exactly one unit, office roles to none."""
    name = check_username(username)
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if (role == "clerk") != (unit_code is not None):
        raise UsageError("a unit clerk needs --unit; office accounts have none / 填报员须指定单位")
    with engine.begin() as conn:
        unit_key = None
        if unit_code is not None:
            unit_key = conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == unit_code)).scalar()
            if unit_key is None:
                raise UsageError(f"unknown unit {unit_code!r} (see config/units.yaml) / 未知单位")
        try:
            conn.execute(
                insert(app_user).values(
                    username=name,
                    role=role,
                    unit_key=unit_key,
                    email=email,
                    is_active=True,
                    failed_logins=0,
                    created_at=now_utc(),
                )
            )
        except IntegrityError as exc:
            raise FupinError(f"the user {name!r} exists already / 用户名已存在") from exc
    found = find_user(engine, name)
    assert found is not None
    return found


def find_user(engine: Engine | Connection, username: str) -> User | None:
    """The account called `username` (case-folded), active or not; None when there is none."""
    row = _row(engine, username)
    return _user(row) if row is not None else None


def _row(engine: Engine | Connection, username: str):
    query = _query().where(app_user.c.username == username.strip().lower())
    if isinstance(engine, Connection):
        return engine.execute(query).first()
    with engine.connect() as conn:
        return conn.execute(query).first()


def credentials(engine: Engine, username: str) -> tuple[User, str | None, Failures] | None:
    """What a sign-in needs: the account, its stored hash and its failures; None when there is no such account."""
    row = _row(engine, username)
    if row is None:
        return None
    failures = Failures(row.failed_logins, utc(row.last_failed_at), utc(row.locked_until))
    return _user(row), row.password_hash, failures


def get_user(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(_query().where(app_user.c.user_id == user_id)).first()
    return _user(row) if row is not None else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(_query().order_by(app_user.c.username))]


def set_active(engine: Engine, username: str, active: bool) -> User:
    """Enable or disable an account; disabling also ends its sessions (they check is_active on every request)."""
    with engine.begin() as conn:
        done = conn.execute(
            update(app_user).where(app_user.c.username == username.strip().lower()).values(is_active=active)
        ).rowcount
    if not done:
        raise UsageError(f"no user called {username!r} / 无此用户")
    found = find_user(engine, username)
    assert found is not None
    return found


def set_password(engine: Engine | Connection, user: User, password: str) -> None:
    """Store a new password's hash and clear the account's failures; refuses a weak password."""
    if problem := password_problem(password, user.username):
        raise UsageError(problem)
    values = {"password_hash": hash_password(password), "password_set_at": now_utc(), "failed_logins": 0}
    statement = update(app_user).where(app_user.c.user_id == user.user_id).values(**values, locked_until=None)
    if isinstance(engine, Connection):
        engine.execute(statement)
        return
    with engine.begin() as conn:
        conn.execute(statement)


def store_failures(engine: Engine, user: User, failures: Failures) -> None:
    """Remember an account's failed sign-ins (a success stores Failures())."""
    with engine.begin() as conn:
        conn.execute(
            update(app_user)
            .where(app_user.c.user_id == user.user_id)
            .values(failed_logins=failures.count, last_failed_at=failures.last_at, locked_until=failures.locked_until)
        )
