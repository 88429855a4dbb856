"""Deliver a Mail through a sink and record it in fct_mail only once the sink has really sent or written it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, insert, select

from core.month import month_key
from tasks.mail.send import Delivery, Mail, MailError, MailSink, build_message
from warehouse.schema import dim_unit, fct_mail


def _record(engine: Engine, mail: Mail, status: str, detail: str) -> int:
    with engine.begin() as conn:
        unit_key = (
            conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == mail.unit_code)).scalar()
            if mail.unit_code
            else None
        )
        return conn.execute(
            insert(fct_mail)
            .values(
                kind=mail.kind,
                recipients=", ".join(mail.to),
                subject=mail.subject,
                month_key=month_key(mail.month) if mail.month else None,
                unit_key=unit_key,
                submission_id=mail.submission_id,
                publication_id=mail.publication_id,
                status=status,
                sent_at=dt.datetime.now(dt.UTC),
                detail=detail,
            )
            .returning(fct_mail.c.mail_id)
        ).scalar_one()


def send_and_record(engine: Engine, sink: MailSink, mail: Mail, sender: str) -> Delivery:
    """Deliver `mail`; a delivered message is recorded as sent/written, a failed one as failed, then re-raised."""
    try:
        delivery = sink.deliver(build_message(mail, sender))
    except MailError as exc:
        _record(engine, mail, "failed", str(exc))
        raise
    _record(engine, mail, delivery.status, delivery.detail)
    return delivery
