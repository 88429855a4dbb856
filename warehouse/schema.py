"""The warehouse star schema: one MetaData, dim_ tables for what is reported on, fct_ tables for what happened."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

VALUE_PRECISION, VALUE_SCALE = 18, 4  # digits in all, and after the point
VALUE = Numeric(VALUE_PRECISION, VALUE_SCALE, asdecimal=False)
# Person-level rows come ~350k a month; a per-row foreign-key check to each dimension cost PostgreSQL 5x the COPY
# itself, and the loader takes every key from the dimension it has just read, in the same transaction.
_UNENFORCED = "key into {} (not enforced: person-level; the loader takes it from rows of the same transaction)"
TIMESTAMP = DateTime(timezone=True)

dim_form = Table(
    "dim_form",
    metadata,
    Column("form_key", Integer, primary_key=True),
    Column("form_code", String(8), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("unit_kind", String(16), nullable=False),
    Column("by_region", Boolean, nullable=False),
    comment="Grain: one row per form of Attachment 2 (表1, 表2, 表3).",
)

dim_unit = Table(
    "dim_unit",
    metadata,
    Column("unit_key", Integer, primary_key=True),
    Column("unit_code", String(40), nullable=False, unique=True),
    Column("unit_name", Text, nullable=False),
    Column("official_name", Text, nullable=False),
    Column("unit_kind", String(16), nullable=False),
    Column("form_key", ForeignKey("dim_form.form_key"), nullable=False),
    Column("region", String(16)),
    Column("email", Text, nullable=False),
    Column("sort_order", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    comment="Grain: one row per reporting unit (填报单位) ever declared; dropped units stay, inactive.",
)

dim_unit_alias = Table(
    "dim_unit_alias",
    metadata,
    Column("alias_key", String(120), primary_key=True, comment="the alias, NFKC-folded, without spaces"),
    Column("alias", Text, nullable=False),
    Column("unit_key", ForeignKey("dim_unit.unit_key"), nullable=False),
    comment="Grain: one row per name by which a unit is written (朝阳 / 朝阳区 / 北京市朝阳区).",
)

dim_indicator = Table(
    "dim_indicator",
    metadata,
    Column("indicator_key", Integer, primary_key=True),
    Column("form_key", ForeignKey("dim_form.form_key"), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("category", Text, nullable=False),
    Column("indicator", Text, nullable=False),
    Column("measure_unit", String(8), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("parent_row_no", Integer),
    Column("at_most_row_no", Integer),
    Column("weight_row_no", Integer),
    Column("concept", String(60)),
    UniqueConstraint("form_key", "row_no"),
    comment="Grain: one row per numbered row (序号) of a form; names repeat, form + row_no is the identity.",
)

dim_region = Table(
    "dim_region",
    metadata,
    Column("region_key", Integer, primary_key=True),
    Column("region", String(16), nullable=False, unique=True),
    Column("is_total", Boolean, nullable=False),
    Column("province", Text),
    Column("sort_order", Integer, nullable=False),
    comment="Grain: one row per report column: 合计 and each supported region.",
)

dim_month = Table(
    "dim_month",
    metadata,
    Column("month_key", Integer, primary_key=True, autoincrement=False, comment="YYYYMM"),
    Column("month", String(7), nullable=False, unique=True, comment="'YYYY-MM'"),
    Column("year", Integer, nullable=False),
    Column("month_of_year", Integer, nullable=False),
    Column("quarter", Integer, nullable=False),
    Column("deadline", Date, nullable=False),
    comment="Grain: one row per reporting month; figures are year-to-date at its end.",
)

dim_district = Table(
    "dim_district",
    metadata,
    Column("district_key", Integer, primary_key=True),
    Column("district", String(16), nullable=False, unique=True),
    Column("short_name", String(16), nullable=False),
    Column("unit_code", String(40), nullable=False),
    Column("sort_order", Integer, nullable=False),
    comment="Grain: one row per Beijing district as a place of employment.",
)

dim_origin = Table(
    "dim_origin",
    metadata,
    Column("origin_key", Integer, primary_key=True),
    Column("province", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("county", Text, nullable=False),
    Column("is_paired", Boolean, nullable=False, default=False),
    Column("is_central_western", Boolean, nullable=False, default=False),
    Column("report_region", String(16), nullable=False),
    UniqueConstraint("province", "city", "county"),
    comment="Grain: one row per county of origin (province / city / county); paired counties seeded, others as met.",
)

fct_submission = Table(
    "fct_submission",
    metadata,
    Column("submission_id", Integer, primary_key=True),
    Column("kind", String(8), nullable=False, comment="report or labor"),
    Column("sha256", String(64), nullable=False, index=True),
    Column("original_name", Text, nullable=False),
    Column("original_name_hex", Text, comment="the file name's bytes as the sender's system wrote them, in hex"),
    Column("archive_path", Text, nullable=False),
    Column("received_at", TIMESTAMP, nullable=False),
    Column("unit_key", ForeignKey("dim_unit.unit_key")),
    Column("form_key", ForeignKey("dim_form.form_key")),
    Column("month_key", ForeignKey("dim_month.month_key")),
    Column("sent_on", Date),
    Column("status", String(12), nullable=False, comment="received, accepted or rejected"),
    Column("version", Integer, comment="1, 2, ... per unit and month, accepted files only"),
    Column("is_current", Boolean, nullable=False, default=False),
    Column("is_late", Boolean),
    Column("n_errors", Integer, nullable=False, default=0),
    Column("n_warnings", Integer, nullable=False, default=0),
    Column("n_rows", Integer),
    Column("flow_run_id", String(40)),
    Column("message", Text),
    Column(
        "source", Text, comment="where the file came from: inbox:<path under the inbox>, cli:<OS user>, web:<account>"
    ),
    CheckConstraint("status in ('received', 'accepted', 'rejected')", name="status"),
    Index("ix_fct_submission_unit_month", "unit_key", "month_key"),
    # One current version per kind, unit and month, even when two loads race past the loaders' own lock.
    Index(
        "uq_fct_submission_current",
        "kind",
        "unit_key",
        "month_key",
        unique=True,
        sqlite_where=text("is_current"),
        postgresql_where=text("is_current"),
    ),
    # The same bytes are loaded once; only rejected attempts repeat, so a retry keeps the earlier rejection's rows.
    Index(
        "uq_fct_submission_sha256_kept",
        "sha256",
        unique=True,
        sqlite_where=text("status <> 'rejected'"),
        postgresql_where=text("status <> 'rejected'"),
    ),
    comment="Grain: one row per distinct file loaded (by SHA-256), plus one per rejected attempt at it; every fact "
    "points at one.",
)

fct_indicator_value = Table(
    "fct_indicator_value",
    metadata,
    Column("submission_id", ForeignKey("fct_submission.submission_id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_key", ForeignKey("dim_indicator.indicator_key"), primary_key=True),
    Column("region_key", ForeignKey("dim_region.region_key"), primary_key=True),
    Column("unit_key", ForeignKey("dim_unit.unit_key"), nullable=False),
    Column("month_key", ForeignKey("dim_month.month_key"), nullable=False),
    Column("value", VALUE, comment="NULL where not reported (blank, —, /, 无): not zero"),
    Column("remark", Text, comment="表3 备注, on the 合计 row"),
    Index("ix_fct_indicator_value_unit_month", "unit_key", "month_key"),
    Index("ix_fct_indicator_value_indicator_month", "indicator_key", "month_key"),
    comment="Grain: unit × indicator × region × month × submission (each version kept).",
)

fct_validation_issue = Table(
    "fct_validation_issue",
    metadata,
    Column("issue_id", Integer, primary_key=True),
    Column("submission_id", ForeignKey("fct_submission.submission_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("severity", String(8), nullable=False, comment="error or warning"),
    Column("rule", String(40), nullable=False),
    Column("sheet", Text),
    Column("cell", String(16)),
    Column("row_no", Integer),
    Column("region", String(16)),
    Column("value", Text),
    Column("message_zh", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Column("is_open", Boolean, nullable=False, default=True),
    comment="Grain: one row per problem found in a submission (errors reject it; warnings are kept).",
)

fct_labor_employment = Table(
    "fct_labor_employment",
    metadata,
    Column("submission_id", ForeignKey("fct_submission.submission_id", ondelete="CASCADE"), primary_key=True),
    Column("origin_key", ForeignKey("dim_origin.origin_key"), primary_key=True),
    Column("district_key", ForeignKey("dim_district.district_key"), primary_key=True),
    Column("month_key", ForeignKey("dim_month.month_key"), nullable=False, index=True),
    Column("persons", Integer, nullable=False, comment="distinct insured people"),
    comment="Grain: month × origin county × employment district (per labor submission).",
)

# The key leads with the district, so a district's people (its list, its retention counts) are one index range.
# On PostgreSQL the table is partitioned by month (warehouse.partition), so loading, reloading or dropping a month
# touches one partition; the key ends with the partition key, as PostgreSQL requires. SQLite keeps one table.
restricted_labor_person = Table(
    "restricted_labor_person",
    metadata,
    Column("submission_id", Integer, primary_key=True, comment=_UNENFORCED.format("fct_submission")),
    Column("district_key", Integer, primary_key=True, comment=_UNENFORCED.format("dim_district")),
    Column("person_key", LargeBinary(32), primary_key=True, comment="HMAC-SHA256 of the identity number"),
    Column(
        "month_key",
        Integer,
        primary_key=True,
        autoincrement=False,
        comment="the submission's month, YYYYMM: the partition key on PostgreSQL",
    ),
    Column("origin_key", Integer, nullable=False, comment=_UNENFORCED.format("dim_origin")),
    Column("is_insured", Boolean, nullable=False),
    Column("name", Text, nullable=False),
    Column("id_masked", String(18), nullable=False, comment="110105********1234"),
    Column("employer", Text),
    Column("insurance_status", String(8), nullable=False),
    Column("source_row", Integer, nullable=False),
    comment=(
        "Grain: one person per labor submission (the loader keeps one row per identity number). Restricted: "
        "names and masked numbers, for the district lists; analysts see only counts, through views."
    ),
    postgresql_partition_by="LIST (month_key)",
    # SQLite: the rows are stored in key order, so a file's or a district's people are one contiguous read (the
    # retention counts at load read a 350k-person month in 0.06 s this way, 1.5 s through a rowid table's index).
    sqlite_with_rowid=False,
)

fct_labor_retention = Table(
    "fct_labor_retention",
    metadata,
    Column("month_key", ForeignKey("dim_month.month_key"), primary_key=True, autoincrement=False),
    Column("district_key", ForeignKey("dim_district.district_key"), primary_key=True, autoincrement=False),
    Column("persons", Integer, nullable=False, comment="insured people employed in the district this month"),
    Column("kept", Integer, comment="of them, insured in the same district the month before; NULL without that file"),
    Column("gone", Integer, comment="insured in the district the month before, not this month; NULL without that file"),
    Column("new", Integer, comment="insured in the district this month, not the month before; NULL without that file"),
    comment=(
        "Grain: month × district of employment, for every month with a current labor file: counts only, from that "
        "file and the month before's. Recomputed in the labor load's transaction for its month and the next "
        "(tasks/labor/retention.py)."
    ),
)

# One row: which PII key the person keys were made with. A different key would silently match no one (retention 0).
restricted_pii_key = Table(
    "restricted_pii_key",
    metadata,
    Column("purpose", String(32), primary_key=True, comment="what the key keys: 'labor_person'"),
    Column("fingerprint", String(64), nullable=False, comment="HMAC-SHA256 of a fixed label under the key, hex"),
    Column("first_used_at", TIMESTAMP, nullable=False),
    Column("rekeyed_at", TIMESTAMP, comment="when `fupin rekey` last replaced the key"),
    comment=(
        "Grain: one row per keyed purpose. The fingerprint proves a key is the one used, and reveals nothing of it."
    ),
)

fct_labor_invalid_row = Table(
    "fct_labor_invalid_row",
    metadata,
    Column("submission_id", ForeignKey("fct_submission.submission_id", ondelete="CASCADE"), primary_key=True),
    Column("source_row", Integer, primary_key=True),
    Column("column_name", String(40), primary_key=True),
    Column("rule", String(40), nullable=False),
    Column("value_masked", Text, comment="identity numbers masked"),
    comment="Grain: one failed check of one row of a labor file, recorded when the row is excluded.",
)

fct_publication = Table(
    "fct_publication",
    metadata,
    Column("publication_id", Integer, primary_key=True),
    Column("month_key", ForeignKey("dim_month.month_key"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("path", Text, nullable=False),
    Column("published_at", TIMESTAMP, nullable=False),
    Column("submission_ids", Text, nullable=False, comment="JSON list of the submissions used"),
    UniqueConstraint("month_key", "version"),
    comment="Grain: one frozen consolidated workbook per month and version.",
)

fct_mail = Table(
    "fct_mail",
    metadata,
    Column("mail_id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False, comment="publication, receipt, rejection, labor_list, reminder, alert"),
    Column("recipients", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("month_key", ForeignKey("dim_month.month_key")),
    Column("unit_key", ForeignKey("dim_unit.unit_key")),
    Column("submission_id", ForeignKey("fct_submission.submission_id")),
    Column("publication_id", ForeignKey("fct_publication.publication_id")),
    Column("status", String(8), nullable=False, comment="sent, written (to the outbox) or failed"),
    Column("sent_at", TIMESTAMP, nullable=False),
    Column("detail", Text, comment="server answer or .eml path"),
    comment="Grain: one row per message handed to a mail sink.",
)

fct_alert = Table(
    "fct_alert",
    metadata,
    Column("alert_id", Integer, primary_key=True),
    Column("failure_id", String(36), nullable=False, comment="the failed or crashed state's id in Prefect"),
    Column("flow_run_id", String(36), nullable=False),
    Column("deployment", String(40), nullable=False, comment="ingest-file, ingest-labor, monthly-close, ..."),
    Column("state", String(20), nullable=False, comment="Failed or Crashed"),
    Column("about", Text, nullable=False, comment="what the run was about: unit, month, file (not Prefect's name)"),
    Column("reason", Text, nullable=False),
    Column("parameters", Text, nullable=False, comment="the run's parameters, as JSON"),
    Column("link", Text, nullable=False, comment="the run's page in the Prefect UI"),
    Column("failed_at", TIMESTAMP, nullable=False),
    Column("batch", String(32), comment="the notify-failure run sending it; null while it waits"),
    Column("claimed_at", TIMESTAMP),
    Column("sent_at", TIMESTAMP, comment="when its e-mail went out; null while pending"),
    UniqueConstraint("failure_id"),
    comment="Grain: one row per failure the operators hear of; pending until sent, at most one e-mail per window.",
)

# The review (审核) of each unit's month. States are derived from submissions and these rows, never stored alone.
REVIEW_ACTIONS = ("submit", "approve", "return", "lock", "reopen")
REVIEW_STATES = ("unreported", "pending", "approved", "returned", "locked")

fct_review_transition = Table(
    "fct_review_transition",
    metadata,
    Column("transition_id", Integer, primary_key=True),
    Column("unit_key", ForeignKey("dim_unit.unit_key"), nullable=False),
    Column("month_key", ForeignKey("dim_month.month_key"), nullable=False),
    Column("submission_id", ForeignKey("fct_submission.submission_id"), comment="the version the action concerns"),
    Column("action", String(8), nullable=False, comment="submit, approve, return, lock or reopen"),
    Column("from_state", String(12), nullable=False, comment="unreported, pending, approved, returned or locked"),
    Column("to_state", String(12), nullable=False, comment="the state after the action"),
    Column("actor", Text, nullable=False, comment="who acted: cli:<OS user>, web:<account>, or a file's source"),
    Column("acted_at", TIMESTAMP, nullable=False),
    Column("reason", Text, comment="why (required for return and reopen)"),
    Column("expires_at", TIMESTAMP, comment="when a reopen ends and the unit is locked again"),
    CheckConstraint(f"action in {REVIEW_ACTIONS}", name="action"),
    CheckConstraint(f"from_state in {REVIEW_STATES} and to_state in {REVIEW_STATES}", name="states"),
    Index("ix_fct_review_transition_unit_month", "unit_key", "month_key"),
    comment="Grain: one row per change of a unit-month's review state, with its actor, time and reason.",
)

fct_month_lock = Table(
    "fct_month_lock",
    metadata,
    Column("month_key", ForeignKey("dim_month.month_key"), primary_key=True),
    Column("locked_at", TIMESTAMP, nullable=False, comment="the latest lock; reopens before it have ended"),
    Column("locked_by", Text, nullable=False),
    Column("reason", Text),
    Column("publication_id", ForeignKey("fct_publication.publication_id"), comment="the final publication, if any"),
    comment="Grain: one row per locked month: no new file is accepted for it unless its unit is reopened.",
)

fct_warning_explanation = Table(
    "fct_warning_explanation",
    metadata,
    Column("explanation_id", Integer, primary_key=True),
    Column(
        "issue_id",
        ForeignKey("fct_validation_issue.issue_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
        comment="the warning explained",
    ),
    Column("text", Text, nullable=False, comment="the unit's 说明"),
    Column("explained_by", Text, nullable=False),
    Column("explained_at", TIMESTAMP, nullable=False),
    Column("decision", String(8), comment="NULL until the reviewer decides: accepted or queried"),
    Column("decided_by", Text),
    Column("decided_at", TIMESTAMP),
    Column("query", Text, comment="the reviewer's question, when queried"),
    Column(
        "carried_from",
        ForeignKey("fct_warning_explanation.explanation_id"),
        comment="the explanation of the same unchanged value in an earlier version or month",
    ),
    CheckConstraint("decision in ('accepted', 'queried')", name="decision"),
    comment="Grain: one row per 说明 given for a warning; the latest one per warning counts.",
)

# The platform (平台填报): accounts, their sessions and one-time links, who did what, and the paper copies received.
app_user = Table(
    "app_user",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(12), nullable=False, comment="clerk (one unit's), reviewer (the office) or admin"),
    Column("unit_key", ForeignKey("dim_unit.unit_key"), comment="the clerk's unit; NULL for office roles"),
    Column("email", Text, comment="where the set-password link goes; the unit's address when NULL"),
    Column("password_hash", Text, comment="argon2id; NULL until the account's password is set"),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("last_failed_at", TIMESTAMP),
    Column("locked_until", TIMESTAMP),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("password_set_at", TIMESTAMP),
    CheckConstraint("role in ('clerk', 'reviewer', 'admin')", name="role"),
    CheckConstraint("(role = 'clerk') = (unit_key is not null)", name="clerk_has_unit"),
    comment="Grain: one row per platform account; a unit may have several clerks.",
)

app_session = Table(
    "app_session",
    metadata,
    Column("token_hash", String(64), primary_key=True, comment="SHA-256 of the cookie's token; the token is not kept"),
    Column("user_id", ForeignKey("app_user.user_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("expires_at", TIMESTAMP, nullable=False),
    Column("address", String(64), comment="the client address that signed in"),
    comment="Grain: one row per signed-in browser or script; deleted on sign-out, ignored once expired.",
)

app_password_token = Table(
    "app_password_token",
    metadata,
    Column("token_hash", String(64), primary_key=True, comment="SHA-256 of the link's token; the token is not kept"),
    Column("user_id", ForeignKey("app_user.user_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("expires_at", TIMESTAMP, nullable=False),
    Column("used_at", TIMESTAMP),
    comment="Grain: one row per one-time set-password link.",
)

app_audit = Table(
    "app_audit",
    metadata,
    Column("audit_id", Integer, primary_key=True),
    Column("at", TIMESTAMP, nullable=False, index=True),
    Column("username", String(64), comment="who (as typed, for a failed sign-in); NULL when anonymous"),
    Column("action", String(32), nullable=False, comment="login, login_failed, check, submit, refused, ..."),
    Column("address", String(64), comment="the client address"),
    Column("unit_code", String(40), comment="the unit acted for or on"),
    Column("submission_id", Integer, comment="the submission concerned, if any (not enforced: kept after deletes)"),
    Column("detail", Text, comment="one line; never a cell's content"),
    comment="Grain: one row per thing done on the platform, or refused to someone.",
)

app_paper_copy = Table(
    "app_paper_copy",
    metadata,
    Column("unit_key", ForeignKey("dim_unit.unit_key"), primary_key=True),
    Column("month_key", ForeignKey("dim_month.month_key"), primary_key=True),
    Column("received_on", Date, nullable=False, comment="the day the stamped paper copy (纸质盖章件) arrived"),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", TIMESTAMP, nullable=False),
    comment="Grain: one row per unit and month whose stamped paper copy the office has received.",
)
