"""The platform's settings from the environment: the upload cap, the address, and the signing secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, SettingsError
from fupin.web.settings import WebSettings


def test_defaults_and_overrides(tmp_path: Path) -> None:
    settings = Settings.from_env({"FUPIN_HOME": str(tmp_path)})
    default = WebSettings.from_env(settings, {})
    assert (default.host, default.port, default.max_upload_bytes) == ("127.0.0.1", 8000, 20 << 20)
    assert default.base_url == "http://127.0.0.1:8000" and not default.secure_cookies
    env = {
        "FUPIN_WEB_PORT": "8443",
        "FUPIN_WEB_MAX_UPLOAD_MB": "5",
        "FUPIN_WEB_URL": "https://tb.example.org/",
        "FUPIN_WEB_SECURE_COOKIES": "1",
    }
    web = WebSettings.from_env(settings, env)
    assert (web.port, web.max_upload_bytes, web.base_url, web.secure_cookies) == (
        8443,
        5 << 20,
        "https://tb.example.org",
        True,
    )
    with pytest.raises(SettingsError):
        WebSettings.from_env(settings, {"FUPIN_WEB_MAX_UPLOAD_MB": "lots"})


def test_the_secret_is_made_once_owner_only_and_never_short(tmp_path: Path) -> None:
    settings = Settings.from_env({"FUPIN_HOME": str(tmp_path)})
    first = WebSettings.from_env(settings, {}).secret
    key = tmp_path / "secrets" / "web.key"
    assert key.stat().st_mode & 0o077 == 0 and len(first) >= 32
    assert WebSettings.from_env(settings, {}).secret == first
    short = tmp_path / "short.key"
    short.write_text("too short")
    with pytest.raises(SettingsError):
        WebSettings.from_env(settings, {"FUPIN_WEB_SECRET_FILE": str(short)})
    with pytest.raises(SettingsError):
        WebSettings.from_env(settings, {"FUPIN_WEB_SECRET_FILE": str(tmp_path / "missing.key")})
