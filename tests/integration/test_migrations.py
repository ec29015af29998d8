"""`flask --app shop db upgrade` builds exactly the schema the models describe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, create_engine, inspect, text

from shop.extensions import db
from shop.trigram import include_for
from tests.conftest import _postgres_url, need_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    admin_url = _postgres_url()
    if admin_url is None:
        need_service("PostgreSQL", "TEST_DATABASE_URL is not set")
        return
    name = f"shop_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def flask_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": database_url, "REDIS_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "shop", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_upgrade_then_seed_gives_the_models_schema_and_the_catalog(empty_database: str) -> None:
    upgraded = flask_cli(empty_database, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    seeded = flask_cli(empty_database, "seed")
    assert seeded.returncode == 0, seeded.stderr
    assert "bundle unit-ten-pack created" in seeded.stdout
    assert "already up to date" in flask_cli(empty_database, "seed").stdout

    import shop.audit.models
    import shop.campaign.models
    import shop.cart.models
    import shop.catalog.models
    import shop.notifications.models
    import shop.orders.models
    import shop.payments.models
    import shop.staff.models
    import shop.units.models  # noqa: F401  (every model registers on the metadata)

    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            # Trigram indexes exist on PostgreSQL only, as the migrations build them.
            context = MigrationContext.configure(
                conn, opts={"include_object": include_for(conn.dialect.name)})
            diff = compare_metadata(context, db.metadata)
            bundles = conn.execute(text("select slug, packages from bundles order by slug"))
            assert list(bundles) == [("single-package", 1), ("unit-ten-pack", 10)]
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_check_constraint_of_the_models_is_in_the_migrated_database(
    empty_database: str,
) -> None:
    """Statuses' constraints are generated from their enums: a new status needs a migration."""
    upgraded = flask_cli(empty_database, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    quoted = re.compile(r"'([^']*)'")
    engine = create_engine(empty_database)
    try:
        inspector = inspect(engine)
        for table in db.metadata.sorted_tables:
            in_database = {
                check["name"]: set(quoted.findall(check["sqltext"]))
                for check in inspector.get_check_constraints(table.name)
            }
            for constraint in table.constraints:
                if not isinstance(constraint, CheckConstraint):
                    continue
                name = str(constraint.name)
                assert name in in_database, f"{name} is missing from the database"
                assert in_database[name] == set(quoted.findall(str(constraint.sqltext))), name
    finally:
        engine.dispose()
