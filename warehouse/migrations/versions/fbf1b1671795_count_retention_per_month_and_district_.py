"""count retention per month and district at load, and partition the person table by month

The retention question read two months of people on every query (351 ms on SQLite over three years); the counts
now live in fct_labor_retention, filled here from the current labor files and kept at each labor load. The person
table gains its submission's month_key, at the end of its key: on PostgreSQL it is rebuilt partitioned by month,
with a partition for every month of dim_month; SQLite keeps one table, now stored in key order (WITHOUT ROWID), so
that a file's people are one contiguous read for the counts.

Revision ID: fbf1b1671795
Revises: 6e548cbae628
Create Date: 2026-12-05 06:33:54.205315
"""
from alembic import op
import sqlalchemy as sa


revision = 'fbf1b1671795'
down_revision = '6e548cbae628'
branch_labels = None
depends_on = None

PERSON = 'restricted_labor_person'
OLD = 'restricted_labor_person_old'
UNENFORCED = "key into {} (not enforced: person-level; the loader takes it from rows of the same transaction)"
PERSON_COMMENT = (
    'Grain: one person per labor submission (the loader keeps one row per identity number). Restricted: names and '
    'masked numbers, for the district lists; analysts see only counts, through views.'
)
REST = ('origin_key', 'is_insured', 'name', 'id_masked', 'employer', 'insurance_status', 'source_row')

# The counts of warehouse.retention, written out so that this revision keeps its meaning when that code moves on.
FILL_RETENTION = """
WITH lm AS (
    SELECT cur.month_key, cur.submission_id AS sid, prev.submission_id AS prev_sid
    FROM fct_submission cur
    LEFT JOIN fct_submission prev ON prev.kind = 'labor' AND prev.is_current
        AND prev.month_key = CASE WHEN cur.month_key % 100 = 1 THEN cur.month_key - 89 ELSE cur.month_key - 1 END
    WHERE cur.kind = 'labor' AND cur.is_current
), persons AS (
    SELECT lm.month_key, p.district_key, count(*) AS n
    FROM lm JOIN restricted_labor_person p ON p.submission_id = lm.sid AND p.is_insured
    GROUP BY lm.month_key, p.district_key
), earlier AS (
    SELECT lm.month_key, p.district_key, count(*) AS n
    FROM lm JOIN restricted_labor_person p ON p.submission_id = lm.prev_sid AND p.is_insured
    GROUP BY lm.month_key, p.district_key
), kept AS (
    SELECT lm.month_key, p.district_key, count(*) AS n
    FROM lm JOIN restricted_labor_person p ON p.submission_id = lm.sid AND p.is_insured
    JOIN restricted_labor_person b ON b.submission_id = lm.prev_sid AND b.district_key = p.district_key
        AND b.person_key = p.person_key AND b.is_insured
    GROUP BY lm.month_key, p.district_key
)
INSERT INTO fct_labor_retention (month_key, district_key, persons, kept, gone, new)
SELECT lm.month_key, d.district_key, COALESCE(persons.n, 0),
    CASE WHEN lm.prev_sid IS NOT NULL THEN COALESCE(kept.n, 0) END,
    CASE WHEN lm.prev_sid IS NOT NULL THEN COALESCE(earlier.n, 0) - COALESCE(kept.n, 0) END,
    CASE WHEN lm.prev_sid IS NOT NULL THEN COALESCE(persons.n, 0) - COALESCE(kept.n, 0) END
FROM lm CROSS JOIN dim_district d
LEFT JOIN persons ON persons.month_key = lm.month_key AND persons.district_key = d.district_key
LEFT JOIN earlier ON earlier.month_key = lm.month_key AND earlier.district_key = d.district_key
LEFT JOIN kept ON kept.month_key = lm.month_key AND kept.district_key = d.district_key
"""


def _person_columns(with_month: bool) -> list:
    return [
        sa.Column('submission_id', sa.Integer(), nullable=False, comment=UNENFORCED.format('fct_submission')),
        sa.Column('district_key', sa.Integer(), nullable=False, comment=UNENFORCED.format('dim_district')),
        sa.Column('person_key', sa.LargeBinary(length=32), nullable=False, comment='HMAC-SHA256 of the identity number'),
        *([sa.Column('month_key', sa.Integer(), autoincrement=False, nullable=False,
                     comment="the submission's month, YYYYMM: the partition key on PostgreSQL")] if with_month else []),
        sa.Column('origin_key', sa.Integer(), nullable=False, comment=UNENFORCED.format('dim_origin')),
        sa.Column('is_insured', sa.Boolean(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('id_masked', sa.String(length=18), nullable=False, comment='110105********1234'),
        sa.Column('employer', sa.Text(), nullable=True),
        sa.Column('insurance_status', sa.String(length=8), nullable=False),
        sa.Column('source_row', sa.Integer(), nullable=False),
    ]


# The view read the old table; PostgreSQL keeps its grants to analysts only if it is replaced, never dropped, so it
# is pointed at the counts before the old table goes (`fupin init` then re-creates every view from the code).
INTERIM_VIEW = """
CREATE OR REPLACE VIEW v_labor_retention AS
SELECT m.month, d.district, CAST(r.persons AS BIGINT) AS persons, CAST(r.kept AS BIGINT) AS kept,
    CAST(r.gone AS BIGINT) AS gone, CAST(r.new AS BIGINT) AS new
FROM fct_labor_retention r
JOIN dim_month m ON m.month_key = r.month_key
JOIN dim_district d ON d.district_key = r.district_key
"""


def _set_aside() -> None:
    """Rename the person table (and on PostgreSQL its key's index) out of the way of its successor."""
    op.rename_table(PERSON, OLD)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER INDEX pk_{PERSON} RENAME TO pk_{OLD}')


def upgrade() -> None:
    op.create_table('fct_labor_retention',
    sa.Column('month_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('district_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False, comment='insured people employed in the district this month'),
    sa.Column('kept', sa.Integer(), nullable=True, comment='of them, insured in the same district the month before; NULL without that file'),
    sa.Column('gone', sa.Integer(), nullable=True, comment='insured in the district the month before, not this month; NULL without that file'),
    sa.Column('new', sa.Integer(), nullable=True, comment='insured in the district this month, not the month before; NULL without that file'),
    sa.ForeignKeyConstraint(['district_key'], ['dim_district.district_key'], name=op.f('fk_fct_labor_retention_district_key_dim_district')),
    sa.ForeignKeyConstraint(['month_key'], ['dim_month.month_key'], name=op.f('fk_fct_labor_retention_month_key_dim_month')),
    sa.PrimaryKeyConstraint('month_key', 'district_key', name=op.f('pk_fct_labor_retention')),
    comment="Grain: month × district of employment, for every month with a current labor file: counts only, from that file and the month before's. Recomputed in the labor load's transaction for its month and the next (tasks/labor/retention.py)."
    )
    op.execute(FILL_RETENTION)

    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute('DROP VIEW IF EXISTS v_labor_retention')  # SQLite would rename the view's table with the table
    _set_aside()
    op.create_table(
        PERSON,
        *_person_columns(with_month=True),
        sa.PrimaryKeyConstraint('submission_id', 'district_key', 'person_key', 'month_key', name=op.f(f'pk_{PERSON}')),
        comment=PERSON_COMMENT,
        postgresql_partition_by='LIST (month_key)',
        sqlite_with_rowid=False,
    )
    if bind.dialect.name == 'postgresql':
        for (key,) in bind.execute(sa.text('SELECT month_key FROM dim_month ORDER BY month_key')):
            op.execute(f'CREATE TABLE {PERSON}_{key:06d} PARTITION OF {PERSON} FOR VALUES IN ({key:d})')
    rest = ', '.join(REST)
    op.execute(
        f'INSERT INTO {PERSON} (submission_id, district_key, person_key, month_key, {rest}) '
        f'SELECT p.submission_id, p.district_key, p.person_key, s.month_key, {", ".join("p." + c for c in REST)} '
        f'FROM {OLD} p JOIN fct_submission s ON s.submission_id = p.submission_id'
    )
    if bind.dialect.name == 'postgresql':
        op.execute(INTERIM_VIEW)
    op.drop_table(OLD)


def downgrade() -> None:
    op.execute('DROP VIEW IF EXISTS v_labor_retention')  # reads fct_labor_retention; `fupin init` makes it again
    _set_aside()
    op.create_table(
        PERSON,
        *_person_columns(with_month=False),
        sa.PrimaryKeyConstraint('submission_id', 'district_key', 'person_key', name=op.f(f'pk_{PERSON}')),
        comment=PERSON_COMMENT,
    )
    columns = ', '.join(('submission_id', 'district_key', 'person_key', *REST))
    op.execute(f'INSERT INTO {PERSON} ({columns}) SELECT {columns} FROM {OLD}')
    op.drop_table(OLD)
    op.drop_table('fct_labor_retention')
