"""`fupin grant-analyst` on a warehouse owned by a non-superuser pipeline role, as in production.

The command must refuse any role it would strip of the pipeline's rights (or could not limit), change nothing when
it refuses, and close the database to every role it was not asked to open it to.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from config import Config
from tests.cli.test_analyst import fupin, loaded
from tests.conftest import PG_ADMIN_URL


@dataclass(frozen=True)
class Owned:
    """A warehouse database owned by the role the pipeline connects as."""

    tag: str
    database: str
    pipeline: str

    def url(self, role: str | None = None) -> str:
        """This database, as `role` (the pipeline's role by default)."""
        return (
            make_url(PG_ADMIN_URL)
            .set(database=self.database, username=role or self.pipeline, password=None)
            .render_as_string(hide_password=False)
        )

    def admin_url(self) -> str:
        return make_url(PG_ADMIN_URL).set(database=self.database).render_as_string(hide_password=False)


def _run(url: str, *sql: str) -> None:
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            for statement in sql:
                conn.execute(text(statement))
    finally:
        eng.dispose()


@pytest.fixture
def owned(pg_admin: Engine, cfg: Config, fupin_home, monkeypatch: pytest.MonkeyPatch) -> Iterator[Owned]:
    tag = uuid.uuid4().hex[:8]
    wh = Owned(tag, f"fupin_t_owned_{tag}", f"pipe_{tag}")
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{wh.pipeline}" LOGIN CREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{wh.database}" OWNER "{wh.pipeline}"'))
    try:
        loaded(wh.url(), cfg)
        monkeypatch.setenv("FUPIN_WAREHOUSE_URL", wh.url())
        yield wh
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{wh.database}" WITH (FORCE)'))
            for (name,) in conn.execute(
                text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p ORDER BY rolname = :pipe"),
                {"p": f"%\\_{tag}", "pipe": wh.pipeline},
            ).all():
                conn.execute(text(f'DROP ROLE "{name}"'))


def snapshot(wh: Owned, roles: list[str]) -> tuple:
    """The database's ACL, every public relation's owner and ACL, and the roles' attributes and memberships."""
    eng = create_engine(wh.admin_url())
    try:
        with eng.connect() as conn:
            return (
                conn.execute(text("SELECT datacl::text FROM pg_database WHERE datname = current_database()")).all(),
                conn.execute(
                    text(
                        "SELECT c.relname, c.relowner::regrole::text, c.relacl::text FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                        "ORDER BY c.relname"
                    )
                ).all(),
                conn.execute(
                    text(
                        "SELECT rolname, rolsuper, rolcanlogin, rolcreaterole FROM pg_roles "
                        "WHERE rolname = ANY(:r) ORDER BY rolname"
                    ),
                    {"r": roles},
                ).all(),
                conn.execute(
                    text(
                        "SELECT roleid::regrole::text, member::regrole::text FROM pg_auth_members "
                        "WHERE roleid::regrole::text = ANY(:r) OR member::regrole::text = ANY(:r) "
                        "ORDER BY 1, 2"
                    ),
                    {"r": roles},
                ).all(),
            )
    finally:
        eng.dispose()


def pipeline_still_works(wh: Owned) -> None:
    """The pipeline's role still reads the restricted table and writes the warehouse."""
    eng = create_engine(wh.url())
    try:
        with eng.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM restricted_labor_person")).scalar_one() > 0
            conn.execute(text("UPDATE dim_unit SET unit_name = unit_name"))
            conn.execute(text("CREATE TEMP TABLE scratch (a int)"))
    finally:
        eng.dispose()


@pytest.mark.parametrize(
    "who, reason",
    [
        ("superuser", "superuser"),
        ("pipeline", "the role the pipeline connects as"),
        ("object_owner", "owns, or belongs to a role that owns"),
        ("owner_member", "owns, or belongs to a role that owns"),
        ("reserved", "reserved"),
    ],
)
def test_grant_analyst_refuses_a_role_it_would_strip_or_could_not_limit_and_changes_nothing(
    owned: Owned, who: str, reason: str
) -> None:
    named = {"superuser": "postgres", "pipeline": owned.pipeline, "reserved": "pg_monitor"}
    role = named.get(who, f"{who}_{owned.tag}")
    if who == "object_owner":
        _run(owned.admin_url(), f'CREATE ROLE "{role}" LOGIN', f'ALTER TABLE fct_labor_employment OWNER TO "{role}"')
    if who == "owner_member":
        _run(owned.admin_url(), f'CREATE ROLE "{role}" LOGIN', f'GRANT "{owned.pipeline}" TO "{role}"')
    roles = [role, owned.pipeline]
    before = snapshot(owned, roles)
    run = fupin("grant-analyst", role, "--login")
    assert run.returncode == 2, run.stdout + run.stderr
    said = " ".join(run.stderr.split())  # the console wraps long lines
    assert reason in said and "拒绝" in said and "Traceback" not in said
    assert snapshot(owned, roles) == before, "a refused grant changes nothing"
    if who != "object_owner":
        pipeline_still_works(owned)


def test_the_database_is_closed_to_every_role_not_granted(owned: Owned, cfg: Config) -> None:
    stranger, analyst = f"stranger_{owned.tag}", f"analyst_{owned.tag}"
    _run(owned.admin_url(), f'CREATE ROLE "{stranger}" LOGIN')
    _run(owned.url(stranger), "SELECT 1")  # open to PUBLIC until an analyst is granted: the test can fail
    run = fupin("grant-analyst", analyst, "--login")
    assert run.returncode == 0, run.stderr
    eng = create_engine(owned.url(analyst))
    try:
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM v_submission")).scalar_one() > 0
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("CREATE TEMP TABLE t (a int)"))
    finally:
        eng.dispose()
    with pytest.raises(OperationalError, match="permission denied for database"):
        _run(owned.url(stranger), "SELECT 1")
    pipeline_still_works(owned)
    assert fupin("grant-analyst", analyst).returncode == 0, "granting twice is harmless"
