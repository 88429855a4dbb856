"""Random tokens, their stored hashes, and values signed with the platform's secret (cookies, CSRF)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A URL-safe random token (256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the warehouse keeps of a token: its SHA-256, so a copy of the table opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()


def sign(secret: bytes, purpose: str, value: str) -> str:
    """`value.mac`: the value with a MAC bound to its purpose, so a signed CSRF value is never a session."""
    return f"{value}.{_mac(secret, purpose, value)}"


def unsign(secret: bytes, purpose: str, signed: str | None) -> str | None:
    """The value of a signed string made for `purpose`, or None when it was altered or made for another purpose."""
    if not signed or "." not in signed:
        return None
    value, _, mac = signed.rpartition(".")
    return value if hmac.compare_digest(mac, _mac(secret, purpose, value)) else None


def csrf_token(secret: bytes, bound_to: str) -> str:
    """The CSRF token of a session (or of a pre-sign-in cookie): a MAC of it, so it needs no storage."""
    return _mac(secret, "csrf", bound_to)


def csrf_ok(secret: bytes, bound_to: str | None, given: str | None) -> bool:
    """True when the form's token is the one for this session or pre-sign-in cookie."""
    return bool(bound_to and given) and hmac.compare_digest(csrf_token(secret, bound_to or ""), given or "")
