"""Setup of people, guardian links, terms, sections, standards and enrollments."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Enrollment, GuardianLink, PasswordReset, Section, SectionStandard, Term, User
from tests.builders import make_section, make_user


def test_an_admin_adds_a_person_who_gets_a_set_password_link(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = client.post("/admin/users", data={"name": "New Teacher", "email": "new@example.org", "role": "teacher"})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.password_hash is None
    assert db.session.scalar(select(func.count()).select_from(PasswordReset).where(PasswordReset.user_id == user.id)) == 1


def test_adding_a_person_with_a_taken_email_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    login_as(admin)
    response = client.post("/admin/users", data={"name": "Dup", "email": admin.email, "role": "teacher"})
    assert response.status_code == 422
    assert b"already an account" in response.data


def test_an_admin_links_a_guardian_to_a_student(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    guardian, student = make_user("guardian"), make_user("student")
    response = client.post(f"/admin/users/{guardian.id}", data={"action": "link", "email": student.email})
    assert response.status_code == 303
    assert db.session.scalar(select(GuardianLink.id).where(GuardianLink.guardian_id == guardian.id,
                                                           GuardianLink.student_id == student.id))


def test_linking_two_teachers_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    a, b = make_user("teacher"), make_user("teacher")
    response = client.post(f"/admin/users/{a.id}", data={"action": "link", "email": b.email})
    assert response.status_code == 422


def test_an_admin_cannot_switch_off_their_own_account(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    login_as(admin)
    assert client.post(f"/admin/users/{admin.id}", data={"action": "active"}).status_code == 422


def test_an_admin_creates_a_term_and_a_section(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    teacher = make_user("teacher")
    client.post("/admin/terms", data={"name": "Spring", "starts_on": "2027-01-05", "ends_on": "2027-05-30"})
    term = db.session.scalar(select(Term).where(Term.name == "Spring"))
    response = client.post("/admin/sections", data={"name": "Art 7", "term_id": term.id, "teacher_email": teacher.email})
    assert response.status_code == 303
    assert db.session.scalar(select(Section).where(Section.name == "Art 7")) is not None


def test_a_term_that_ends_before_it_starts_is_refused(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    client.post("/admin/terms", data={"name": "Odd", "starts_on": "2027-05-05", "ends_on": "2027-01-30"})
    assert db.session.scalar(select(func.count()).select_from(Term)) == 0


def test_enrolling_an_unknown_email_changes_nothing(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=0)
    login_as(make_user("admin"))
    student = make_user("student")
    response = client.post(f"/admin/sections/{world.section.id}",
                           data={"action": "enrol", "emails": f"{student.email}\nnobody@example.org"})
    assert response.status_code == 422
    assert b"nobody@example.org" in response.data
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0


def test_an_admin_chooses_the_standards_a_section_assesses(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=3)
    login_as(make_user("admin"))
    keep = [str(world.standards[0].id), str(world.standards[2].id)]
    response = client.post(f"/admin/sections/{world.section.id}", data={"action": "standards", "standards": keep})
    assert response.status_code == 303
    chosen = set(db.session.scalars(select(SectionStandard.competency_id)
                                    .where(SectionStandard.section_id == world.section.id)))
    assert chosen == {world.standards[0].id, world.standards[2].id}


def test_unenrolling_keeps_the_enrolment_row_inactive(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    login_as(make_user("admin"))
    enrolment = db.session.scalar(select(Enrollment))
    client.post(f"/admin/sections/{world.section.id}", data={"action": "unenrol", "enrollment_id": enrolment.id})
    assert db.session.get(Enrollment, enrolment.id).active is False
