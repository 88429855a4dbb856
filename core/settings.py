"""Settings read from the environment once, at the edge (CLI start, flow start), never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

PRIVATE_UMASK = 0o077  # personal data lives under FUPIN_HOME: no other local user may read any of it
PRIVATE_DIR = 0o700
MIN_PII_KEY_BYTES = 32


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def checked_pii_key(key: bytes, where: str) -> bytes:
    """The key if it holds at least MIN_PII_KEY_BYTES bytes; a short key makes identity numbers guessable."""
    if len(key) < MIN_PII_KEY_BYTES:
        raise SettingsError(
            f"{where} holds {len(key)} bytes; a PII key needs at least {MIN_PII_KEY_BYTES} "
            f"(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`) / 密钥至少 "
            f"{MIN_PII_KEY_BYTES} 字节"
        )
    return key


def read_key_file(path: Path, where: str) -> bytes:
    """A key file's content without its trailing newline, checked for length."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"{where}: cannot read {path} ({exc.strerror}) / 无法读取密钥文件") from None
    return checked_pii_key(raw.strip(), where)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: SecretStr | None = None
    starttls: bool = False


@dataclass(frozen=True)
class Paths:
    """Where everything lives under FUPIN_HOME."""

    home: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def outputs(self) -> Path:
        return self.home / "outputs"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    def ensure(self) -> Paths:
        """FUPIN_HOME and its folders, owner-only (0700) whatever the umask, also when made earlier without it."""
        owner_only()
        for p in (self.home, self.inbox, self.archive, self.quarantine, self.outputs, self.outbox, self.logs):
            p.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            if p.stat().st_uid == os.getuid():  # a drop folder owned by a file-sharing account is left as it is
                p.chmod(PRIVATE_DIR)
        return self


def owner_only() -> None:
    """Everything this process and its children create from now on is owner-only: files 0600, folders 0700."""
    os.umask(PRIVATE_UMASK)


@dataclass(frozen=True)
class Settings:
    """Everything that differs between a laptop and production."""

    home: Path
    warehouse_url: str
    config_dir: Path | None = None
    smtp: SmtpSettings | None = None
    mail_from: str = "fupin@office.example.org"
    pii_key: SecretStr | None = field(default=None, repr=False)
    pii_key_file: Path | None = None
    ui_url: str = "http://127.0.0.1:4200"
    web_url: str = "http://127.0.0.1:8000"  # the platform as units reach it, for links in e-mails (FUPIN_WEB_URL)
    alert_window_seconds: float = 600.0  # at most one alert e-mail per window (FUPIN_ALERT_WINDOW_SECONDS)

    @property
    def paths(self) -> Paths:
        return Paths(self.home)

    def require_pii_key(self) -> bytes:
        """The HMAC key for identity numbers, from FUPIN_PII_KEY or the file FUPIN_PII_KEY_FILE names; refuses to run
        without one (or with a short one) rather than hash with a guessable key."""
        if self.pii_key is not None and self.pii_key_file is not None:
            raise SettingsError("set FUPIN_PII_KEY or FUPIN_PII_KEY_FILE, not both / 两者只能设置其一")
        if self.pii_key_file is not None:
            return read_key_file(self.pii_key_file, "FUPIN_PII_KEY_FILE")
        if self.pii_key is None or not self.pii_key.get_secret_value():
            raise SettingsError(
                "no PII key: set FUPIN_PII_KEY, or FUPIN_PII_KEY_FILE to a key file (or a Prefect Secret block "
                "'fupin-pii-key') before ingesting labor records / 未设置身份证号加密密钥"
            )
        return checked_pii_key(self.pii_key.get_secret_value().encode(), "FUPIN_PII_KEY")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("FUPIN_HOME") or "var").resolve()
        url = env.get("FUPIN_WAREHOUSE_URL") or f"sqlite:///{home / 'warehouse.db'}"
        smtp = None
        if env.get("FUPIN_SMTP_HOST"):
            try:
                port = int(env.get("FUPIN_SMTP_PORT") or 25)
            except ValueError as exc:
                raise SettingsError(f"FUPIN_SMTP_PORT must be a number, not {env['FUPIN_SMTP_PORT']!r}") from exc
            password = env.get("FUPIN_SMTP_PASSWORD")
            smtp = SmtpSettings(
                host=env["FUPIN_SMTP_HOST"],
                port=port,
                user=env.get("FUPIN_SMTP_USER") or None,
                password=SecretStr(password) if password else None,
                starttls=(env.get("FUPIN_SMTP_STARTTLS") or "").lower() in {"1", "true", "yes", "on"},
            )
        key = env.get("FUPIN_PII_KEY")
        try:
            alert_window = float(env.get("FUPIN_ALERT_WINDOW_SECONDS") or 600)
        except ValueError as exc:
            raise SettingsError("FUPIN_ALERT_WINDOW_SECONDS must be a number of seconds") from exc
        return cls(
            home=home,
            warehouse_url=url,
            config_dir=Path(env["FUPIN_CONFIG_DIR"]) if env.get("FUPIN_CONFIG_DIR") else None,
            smtp=smtp,
            mail_from=env.get("FUPIN_MAIL_FROM") or "fupin@office.example.org",
            pii_key=SecretStr(key) if key else None,
            pii_key_file=Path(env["FUPIN_PII_KEY_FILE"]) if env.get("FUPIN_PII_KEY_FILE") else None,
            ui_url=env.get("FUPIN_UI_URL") or "http://127.0.0.1:4200",
            web_url=(env.get("FUPIN_WEB_URL") or f"http://127.0.0.1:{env.get('FUPIN_WEB_PORT') or 8000}").rstrip("/"),
            alert_window_seconds=alert_window,
        )
