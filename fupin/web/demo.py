"""Demo accounts for `make demo`: two unit clerks and an office reviewer, sharing one password kept under FUPIN_HOME."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import Engine

from core.settings import PRIVATE_DIR
from tasks.accounts.users import add_user, find_user, set_active, set_password

# (user name, role, unit code): a district clerk, a bureau clerk, and the office.
DEMO_ACCOUNTS = (
    ("demo-chaoyang", "clerk", "chaoyang"),
    ("demo-education", "clerk", "education"),
    ("demo-office", "reviewer", None),
)


def demo_password(home: Path) -> str:
    """FUPIN_HOME/secrets/demo-password: made once (owner-only), the same on every later run."""
    path = home / "secrets" / "demo-password"
    if not path.exists():
        path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(f"demo-{secrets.token_hex(6)}\n")
    return path.read_text(encoding="ascii").strip()


def demo_accounts(engine: Engine, home: Path) -> tuple[list[tuple[str, str, str | None]], str]:
    """Create (or reset) the demo accounts with the demo password; returns them and the password."""
    password = demo_password(home)
    for name, role, unit in DEMO_ACCOUNTS:
        user = find_user(engine, name) or add_user(engine, name, role, unit)
        if not user.is_active:
            user = set_active(engine, name, True)
        set_password(engine, user, password)
    return list(DEMO_ACCOUNTS), password
