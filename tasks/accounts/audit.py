"""The audit log: who did what on the platform, when, and from which address (never a cell's content)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, insert, select

from tasks.accounts.users import now_utc
from warehouse.schema import app_audit


@dataclass(frozen=True)
class Event:
    """One thing done or refused: an action, by whom, from where, about which unit or submission."""

    action: str
    username: str | None = None
    address: str | None = None
    unit_code: str | None = None
    submission_id: int | None = None
    detail: str | None = None


def record(engine: Engine, event: Event) -> None:
    """Append one event to app_audit."""
    with engine.begin() as conn:
        conn.execute(
            insert(app_audit).values(
                at=now_utc(),
                username=(event.username or "")[:64] or None,
                action=event.action,
                address=(event.address or "")[:64] or None,
                unit_code=event.unit_code,
                submission_id=event.submission_id,
                detail=(event.detail or "")[:500] or None,
            )
        )


def recent(engine: Engine, limit: int = 200, action: str | None = None) -> list[dict]:
    """The newest events first, for the office and for tests."""
    query = select(app_audit).order_by(app_audit.c.audit_id.desc()).limit(limit)
    if action:
        query = query.where(app_audit.c.action == action)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
