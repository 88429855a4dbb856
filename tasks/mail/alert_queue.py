"""Failure alerts waiting in the warehouse for their e-mail: at most one e-mail per window, none sent twice."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import as_utc
from tasks.mail.alert import Alert
from warehouse.schema import fct_alert


@dataclass(frozen=True)
class Batch:
    """The waiting alerts one sender has claimed."""

    token: str
    alerts: list[Alert]


def hold(engine: Engine, alert: Alert) -> bool:
    """Keep the alert until its e-mail goes; False when this failure is already held (the trigger fired twice)."""
    values = {
        "failure_id": alert.failure_id,
        "flow_run_id": alert.flow_run_id,
        "deployment": alert.deployment,
        "state": alert.state,
        "about": alert.about,
        "reason": alert.reason,
        "parameters": alert.parameters,
        "link": alert.link,
        "failed_at": alert.failed_at,
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(fct_alert).values(**values))
    except IntegrityError:
        return False
    return True


def waiting(engine: Engine) -> int:
    """How many alerts wait for their e-mail."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(fct_alert.c.sent_at.is_(None))).scalar_one()


def mail_due(engine: Engine, window: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """When the next alert e-mail may go: `now` if none went within the window, else when the window ends."""
    with engine.connect() as conn:
        last = conn.execute(select(func.max(fct_alert.c.sent_at))).scalar()
    return now if last is None else max(now, as_utc(last) + window)


def claim(engine: Engine, now: dt.datetime, stale_after: dt.timedelta) -> Batch:
    """Claim every waiting alert (and any claimed by a sender that died more than `stale_after` ago), oldest first."""
    token = uuid.uuid4().hex
    waiting = fct_alert.c.sent_at.is_(None)
    free = or_(fct_alert.c.batch.is_(None), fct_alert.c.claimed_at < now - stale_after)
    with engine.begin() as conn:
        conn.execute(update(fct_alert).where(and_(waiting, free)).values(batch=token, claimed_at=now))
        rows = conn.execute(
            select(fct_alert).where(fct_alert.c.batch == token).order_by(fct_alert.c.failed_at, fct_alert.c.alert_id)
        ).all()
    alerts = [
        Alert(
            failure_id=r.failure_id,
            flow_run_id=r.flow_run_id,
            deployment=r.deployment,
            state=r.state,
            about=r.about,
            reason=r.reason,
            parameters=r.parameters,
            link=r.link,
            failed_at=as_utc(r.failed_at),
        )
        for r in rows
    ]
    return Batch(token, alerts)


def mark_sent(engine: Engine, batch: Batch, at: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(fct_alert).where(fct_alert.c.batch == batch.token).values(sent_at=at))


def release(engine: Engine, batch: Batch) -> None:
    """Give the batch back (its e-mail failed): the next sender tries again."""
    with engine.begin() as conn:
        conn.execute(update(fct_alert).where(fct_alert.c.batch == batch.token).values(batch=None, claimed_at=None))
