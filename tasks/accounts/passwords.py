"""Passwords hashed with argon2id (argon2-cffi's defaults), checked in constant time, and a minimum for new ones."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
_HASHER = PasswordHasher()
# Verified against when the account does not exist, so that an unknown name costs as long as a wrong password.
_DUMMY = _HASHER.hash("not-a-real-password-0000")


def hash_password(password: str) -> str:
    """An argon2id hash with its own random salt and parameters, as one string."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; an account without a password (or none at all) never matches."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is not acceptable (Chinese / English), or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符 / a password needs at least {MIN_LENGTH} characters"
    if username.lower() in password.lower():
        return "密码不能包含用户名 / a password must not contain the user name"
    return None
