"""one current submission per kind, unit and month; where each file came from

Revision ID: 8191c3059517
Revises: c8af26bbf34f
Create Date: 2026-12-01 23:33:44.240692
"""
from alembic import op
import sqlalchemy as sa


revision = '8191c3059517'
down_revision = 'c8af26bbf34f'
branch_labels = None
depends_on = None


def _keep_one_current() -> None:
    """Before the index: where a race left two current versions, only the latest received stays current."""
    s = sa.table("fct_submission", sa.column("submission_id"), sa.column("kind"), sa.column("unit_key"),
                 sa.column("month_key"), sa.column("received_at"), sa.column("is_current", sa.Boolean))
    later = s.alias("later")
    newer = sa.exists().where(
        later.c.is_current, later.c.kind == s.c.kind, later.c.unit_key == s.c.unit_key,
        later.c.month_key == s.c.month_key,
        sa.or_(later.c.received_at > s.c.received_at,
               sa.and_(later.c.received_at == s.c.received_at, later.c.submission_id > s.c.submission_id)))
    op.execute(s.update().where(s.c.is_current, newer).values(is_current=False))


def upgrade() -> None:
    with op.batch_alter_table('fct_submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.Text(), nullable=True, comment='where the file came from: inbox:<path under the inbox>, cli:<OS user>, web:<account>'))
    _keep_one_current()
    with op.batch_alter_table('fct_submission', schema=None) as batch_op:
        batch_op.create_index('uq_fct_submission_current', ['kind', 'unit_key', 'month_key'], unique=True, sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))


def downgrade() -> None:
    with op.batch_alter_table('fct_submission', schema=None) as batch_op:
        batch_op.drop_index('uq_fct_submission_current', sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
        batch_op.drop_column('source')
