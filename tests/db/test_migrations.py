"""`flask db upgrade` on an empty database gives exactly the models' schema; `downgrade` to base works."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from gradebook import create_app
from gradebook.extensions import db
from tests.conftest import ROOT, database_url, is_postgres


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    url = make_url(database_url().replace("postgresql://", "postgresql+psycopg://"))
    name = f"gradebook_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_gives_exactly_the_models_schema_and_downgrade_empties_it(empty_database_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == []
        assert set(inspect(db.engine).get_table_names()) == set(db.metadata.tables) | {"alembic_version"}

        downgrade(directory=str(ROOT / "migrations"), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_suite_runs_on_the_database_it_says() -> None:
    """CI runs the suite twice; this makes the database in use visible and checked."""
    expected = os.environ.get("EXPECT_DATABASE")
    if expected:
        assert ("postgres" if is_postgres() else "sqlite") == expected
