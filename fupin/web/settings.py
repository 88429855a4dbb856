"""The platform's settings, read from the environment once at the edge (`fupin web`), never at import time."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import PRIVATE_DIR, Settings, SettingsError
from tasks.accounts.lockout import LockoutPolicy

MIN_SECRET_BYTES = 32


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class WebSettings:
    """Where the platform listens, how big an upload may be, how long sessions and links live, and its secret."""

    secret: bytes = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 20 << 20
    session_lifetime: dt.timedelta = dt.timedelta(hours=8)
    link_lifetime: dt.timedelta = dt.timedelta(hours=72)
    secure_cookies: bool = False
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)

    @classmethod
    def from_env(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ
        host = env.get("FUPIN_WEB_HOST") or "127.0.0.1"
        port = int(_number(env, "FUPIN_WEB_PORT", 8000))
        return cls(
            secret=web_secret(settings, env),
            host=host,
            port=port,
            base_url=(env.get("FUPIN_WEB_URL") or f"http://{host}:{port}").rstrip("/"),
            max_upload_bytes=int(_number(env, "FUPIN_WEB_MAX_UPLOAD_MB", 20) * (1 << 20)),
            session_lifetime=dt.timedelta(hours=_number(env, "FUPIN_WEB_SESSION_HOURS", 8)),
            link_lifetime=dt.timedelta(hours=_number(env, "FUPIN_WEB_LINK_HOURS", 72)),
            secure_cookies=(env.get("FUPIN_WEB_SECURE_COOKIES") or "").lower() in {"1", "true", "yes", "on"},
        )


def web_secret(settings: Settings, env: Mapping[str, str]) -> bytes:
    """The key that signs cookies: FUPIN_WEB_SECRET_FILE, else FUPIN_HOME/secrets/web.key, made once (owner-only)."""
    named = env.get("FUPIN_WEB_SECRET_FILE")
    path = Path(named) if named else settings.home / "secrets" / "web.key"
    if not path.exists():
        if named:
            raise SettingsError(f"FUPIN_WEB_SECRET_FILE: no such file {path} / 密钥文件不存在")
        path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
        except FileExistsError:
            pass  # another process made it first: use theirs
    key = path.read_bytes().strip()
    if len(key) < MIN_SECRET_BYTES:
        raise SettingsError(f"{path} holds {len(key)} bytes; the platform's secret needs at least {MIN_SECRET_BYTES}")
    return key
