"""The schools migration (a3f9d27c5e18) on a database with one school in it: every section, term and person
goes to that school, its defaults become the district's, and every admin becomes a district admin."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from gradebook import create_app
from gradebook.extensions import db
from tests.conftest import ROOT
from tests.db.test_migrations import empty_database_url  # noqa: F401  (the fixture)

ROWS = [
    "INSERT INTO proficiency_scales (id, name, allow_decimals, version) VALUES (1, 'Default', true, 1)",
    "INSERT INTO schools (id, name, default_scale_id, default_policy, version) VALUES "
    "(1, 'Riverside', 1, '{\"method\": \"average\"}', 1)",
    "INSERT INTO users (id, email, name, role, active, session_token, created_at) VALUES "
    "(1, 'a@x.org', 'Admin', 'admin', true, 't1', '2026-09-01 00:00:00'), "
    "(2, 't@x.org', 'Teacher', 'teacher', true, 't2', '2026-09-01 00:00:00'), "
    "(3, 's@x.org', 'Student', 'student', true, 't3', '2026-09-01 00:00:00')",
    "INSERT INTO terms (id, name, starts_on, ends_on, active) VALUES (1, 'Fall', '2026-08-31', '2026-12-18', true)",
    "INSERT INTO sections (id, term_id, school_id, name, active, version, created_at) VALUES "
    "(1, 1, NULL, 'Science', true, 1, '2026-09-01 00:00:00')",
    "INSERT INTO policy_changes (id, section_id, changed_by_id, changed_at, summary) VALUES "
    "(1, NULL, 1, '2026-09-02 00:00:00', '')",
]


def test_the_existing_school_takes_every_row_and_admins_become_district_admins(empty_database_url: str) -> None:  # noqa: F811
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="9d3a6f1c2b84")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement))
        upgrade(directory=str(ROOT / "migrations"), revision="a3f9d27c5e18")
        with db.engine.connect() as conn:
            one = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
            assert [tuple(r[:2]) for r in one("SELECT name, default_scale_id FROM districts")] == [("Riverside", 1)]
            assert "average" in str(one("SELECT default_policy FROM districts")[0][0])
            assert one("SELECT school_id FROM sections") == [(1,)]
            assert one("SELECT school_id FROM terms") == [(1,)]
            assert sorted(one("SELECT user_id, school_id FROM school_members")) == [(2, 1), (3, 1)]
            assert [(i, bool(d)) for i, d in one("SELECT id, district_admin FROM users ORDER BY id")] == [
                (1, True), (2, False), (3, False)]
            assert one("SELECT school_id FROM policy_changes") == [(1,)]
        db.engine.dispose()
