"""Family comments on goals, work uploaded by students, and records families can keep."""

from __future__ import annotations

import io
import zipfile

from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Artifact, Comment, Goal, PortfolioEntry
from tests.builders import make_section, make_user
from tests.web.test_access import PNG


def test_a_guardian_comments_on_their_childs_goal(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, guardians=True)
    goal = Goal(student_id=world.students[0].id, title="Read more")
    db.session.add(goal)
    db.session.commit()
    login_as(world.guardians[0])
    response = client.post(f"/family/children/{world.students[0].id}/goals/{goal.id}/comments",
                           data={"body": "We will read together at night."})
    assert response.status_code == 303
    login_as(world.students[0])
    assert "We will read together at night." in client.get("/portfolio").get_data(as_text=True)


def test_a_guardian_cannot_comment_on_another_familys_goal(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, guardians=True)
    other = make_section(students=1)
    goal = Goal(student_id=other.students[0].id, title="Theirs")
    db.session.add(goal)
    db.session.commit()
    login_as(world.guardians[0])
    response = client.post(f"/family/children/{world.students[0].id}/goals/{goal.id}/comments", data={"body": "x"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_a_student_uploads_a_photo_with_a_portfolio_entry(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    login_as(world.students[0])
    response = client.post("/portfolio/entries/new", content_type="multipart/form-data", data={
        "title": "My model", "reflection": "Built it.", "visibility": "family", "file": (io.BytesIO(PNG), "model.png")})
    assert response.status_code == 303
    artifact = db.session.scalar(select(Artifact))
    assert artifact.portfolio_entry_id == db.session.scalar(select(PortfolioEntry.id))


def test_a_student_upload_that_is_not_work_is_refused_and_no_entry_is_written(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    login_as(world.students[0])
    response = client.post("/portfolio/entries/new", content_type="multipart/form-data", data={
        "title": "Sneaky", "visibility": "family", "file": (io.BytesIO(b"MZ" + b"\x00" * 200), "homework.pdf")})
    assert response.status_code == 422
    assert b"not accepted" in response.data
    assert db.session.scalar(select(func.count()).select_from(PortfolioEntry)) == 0


def test_a_family_downloads_the_full_record(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, guardians=True)
    login_as(world.guardians[0])
    response = client.get(f"/students/{world.students[0].id}/record.html")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert world.students[0].name in response.get_data(as_text=True)


def test_an_admin_downloads_the_whole_school(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1)
    login_as(make_user("admin"))
    started = client.post("/admin/jobs", data={"kind": "export"})
    assert started.status_code == 303
    page = client.get(started.location).get_data(as_text=True)
    assert "Download gradebook-school-export.zip" in page
    response = client.get(started.location + "/download")
    assert response.headers["Content-Disposition"].startswith("attachment")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "csv/evidence_revisions.csv" in names and "json/evidence.json" in names
