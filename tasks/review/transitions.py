"""Write a review transition, and read a unit-month's history of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from core.month import month_key
from tasks.review.states import LABELS, ReviewRefused, aware
from warehouse.schema import dim_month, dim_unit, fct_review_transition, fct_submission


@dataclass(frozen=True)
class Transition:
    """One recorded change of a unit-month's review state."""

    unit_code: str
    month: str
    action: str
    from_state: str
    to_state: str
    actor: str
    acted_at: dt.datetime
    reason: str | None = None
    submission_id: int | None = None
    version: int | None = None
    expires_at: dt.datetime | None = None

    def line(self) -> str:
        """One line for a person: when, who, from → to, and why."""
        why = f"：{self.reason}" if self.reason else ""
        until = f"（至 {self.expires_at:%Y-%m-%d %H:%M} UTC）" if self.expires_at else ""
        return (
            f"{self.acted_at:%Y-%m-%d %H:%M} UTC {self.actor} {self.action} "
            f"{LABELS[self.from_state]} → {LABELS[self.to_state]}{until}{why}"
        )


def record(conn: Connection, t: Transition, unit_key: int) -> int:
    """Insert one transition row; its id."""
    if not t.actor.strip():
        raise ReviewRefused("未注明操作人 / no actor given")
    return conn.execute(
        insert(fct_review_transition)
        .values(
            unit_key=unit_key,
            month_key=month_key(t.month),
            submission_id=t.submission_id,
            action=t.action,
            from_state=t.from_state,
            to_state=t.to_state,
            actor=t.actor,
            acted_at=t.acted_at,
            reason=t.reason,
            expires_at=t.expires_at,
        )
        .returning(fct_review_transition.c.transition_id)
    ).scalar_one()


def history(conn: Connection, unit_code: str | None, month: str) -> list[Transition]:
    """Every transition of the month (of one unit, or all), oldest first."""
    t = fct_review_transition
    query = (
        select(t, dim_unit.c.unit_code, dim_month.c.month, fct_submission.c.version)
        .join(dim_unit, dim_unit.c.unit_key == t.c.unit_key)
        .join(dim_month, dim_month.c.month_key == t.c.month_key)
        .outerjoin(fct_submission, fct_submission.c.submission_id == t.c.submission_id)
        .where(t.c.month_key == month_key(month))
        .order_by(t.c.transition_id)
    )
    if unit_code is not None:
        query = query.where(dim_unit.c.unit_code == unit_code)
    return [
        Transition(
            r.unit_code,
            r.month,
            r.action,
            r.from_state,
            r.to_state,
            r.actor,
            aware(r.acted_at),  # type: ignore[arg-type]
            r.reason,
            r.submission_id,
            r.version,
            aware(r.expires_at),
        )
        for r in conn.execute(query)
    ]
