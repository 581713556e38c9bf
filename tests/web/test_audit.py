"""The FERPA disclosure log (34 CFR §99.32, DESIGN.md "Data rules"): every route declares whether it discloses a
student's record; each disclosure to someone other than the student writes an audit row per student shown
(who, when, which student, what, the route); every change of who may see what writes its row; rows are
append-only. The routes come from app.url_map, so a new route without a declaration fails here.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update

from gradebook.authz import NO_DISCLOSURE_ENDPOINTS
from gradebook.extensions import db
from gradebook.models import AuditEvent, Enrollment, FeedbackReply, GuardianLink, User
from gradebook.models.audit import AuditLogIsAppendOnly
from gradebook.services.accounts import issue_set_password_link
from gradebook.services.audit import log_for_student, record_change
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import make_school, make_section, make_user
from tests.conftest import login
from tests.web.test_access import ACCESS, ALLOWED, World, _build, _routes, build_world

HTMX = {"HX-Request": "true"}
OTHERS = ("teacher", "admin", "guardian")  # the roles of test_access that see a student's record without being them


def disclosure(app: Flask, endpoint: str):  # type: ignore[no-untyped-def]
    return getattr(app.view_functions[endpoint], "disclosure", None)


def get_routes(app: Flask) -> list[tuple[str, str]]:
    return sorted({(endpoint, rule) for endpoint, rule, method in _routes(app) if method == "GET"})


def rows_after(last_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)))


def last_id() -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0


def views_after(last: int) -> list[AuditEvent]:
    return [e for e in rows_after(last) if e.action.startswith("view.")]


@pytest.fixture
def world(app: Flask) -> World:
    """test_access's world, plus a reply from the student so the teacher's landing page shows one."""
    built = build_world(app)
    db.session.add(FeedbackReply(evidence_id=built.params["evidence_id"], author_id=built.params["student_id"],
                                 body="I will redo the graph."))
    db.session.commit()
    return built


# ------------------------------------------------------------------ (a) every route declares

def test_every_route_declares_whether_it_discloses_a_student_record(app: Flask) -> None:
    undeclared = sorted({endpoint for endpoint, _rule, _method in _routes(app)
                         if endpoint not in NO_DISCLOSURE_ENDPOINTS and disclosure(app, endpoint) is None})
    assert undeclared == [], ("declare each view with @discloses(what, students=...) or @discloses_none(reason) "
                              f"from gradebook.authz: {undeclared}")


def test_a_route_that_discloses_none_says_why(app: Flask) -> None:
    silent = [endpoint for endpoint in app.view_functions if endpoint not in NO_DISCLOSURE_ENDPOINTS
              and disclosure(app, endpoint).what is None and not disclosure(app, endpoint).reason.strip()]
    assert silent == []


def test_the_pages_the_issue_names_are_declared_disclosing(app: Flask) -> None:
    named = ["gradebook.cell_detail", "gradebook.grid", "gradebook.entry", "gradebook.reteach", "gradebook.export_csv",
             "artifacts.download", "family.home", "admin.user", "gradebook.student", "family.child", "family.why",
             "family.conference", "family.record", "record.page", "admin.job_download"]
    assert [e for e in named if disclosure(app, e).what is None] == []


# ------------------------------------------------------------------ (b) each disclosure by someone else is written

@pytest.mark.parametrize("role", OTHERS)
def test_every_disclosing_page_writes_a_row_naming_the_student_and_no_other_page_does(
        app: Flask, world: World, role: str) -> None:
    viewer = world.users[role]
    student_id = world.params["student_id"]
    client = app.test_client()
    login(client, viewer)
    failures, checked = [], 0
    for endpoint, rule in get_routes(app):
        if role not in ALLOWED[ACCESS[endpoint]]:
            continue
        before = last_id()
        response = client.get(_build(app, endpoint, world.params))
        views = views_after(before)
        declared = disclosure(app, endpoint)
        if declared is None or declared.what is None:
            if views:
                failures.append(f"{rule}: declared non-disclosing but wrote {[v.action for v in views]}")
            continue
        checked += 1
        if response.status_code != 200:
            failures.append(f"{rule}: {role} got {response.status_code}")
        named = [v for v in views if v.student_id == student_id]
        if len(named) != 1:
            failures.append(f"{rule}: {role} should write one row for the student, wrote "
                            f"{[(v.action, v.student_id) for v in views]}")
            continue
        row = named[0]
        facts = (row.action, row.actor_id, row.target_type, row.target_id, row.detail["endpoint"],
                 row.detail["method"], row.at is not None, row.ip)
        if facts != (f"view.{declared.what}", viewer.id, "student", student_id, endpoint, "GET", True, "127.0.0.1"):
            failures.append(f"{rule}: row {facts}")
        if any(v.actor_id != viewer.id or v.student_id == viewer.id for v in views):
            failures.append(f"{rule}: a row names the wrong viewer, or the viewer as the student")
    assert failures == []
    assert checked >= {"teacher": 10, "admin": 14, "guardian": 5}[role]


def test_every_disclosing_page_is_reached_by_someone_other_than_the_student(app: Flask) -> None:
    """So the test above checks every one of them."""
    unchecked = [endpoint for endpoint, _rule in get_routes(app)
                 if endpoint not in NO_DISCLOSURE_ENDPOINTS and disclosure(app, endpoint).what is not None
                 and not ALLOWED[ACCESS[endpoint]] & set(OTHERS)]
    assert unchecked == []


def test_a_page_of_the_whole_class_writes_one_row_per_student_shown(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=4)
    login_as(world.teacher)
    for path in ("", "/reteach", "/export.csv"):
        before = last_id()
        assert client.get(f"/sections/{world.section.id}{path}").status_code == 200
        assert sorted(v.student_id for v in views_after(before)) == sorted(s.id for s in world.students), path


def test_a_student_no_longer_enrolled_is_not_logged_as_shown_on_the_grid(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=2)
    gone = db.session.scalar(select(Enrollment).where(Enrollment.student_id == world.students[1].id))
    gone.active = False
    db.session.commit()
    login_as(world.teacher)
    before = last_id()
    client.get(f"/sections/{world.section.id}")
    assert [v.student_id for v in views_after(before)] == [world.students[0].id]


def test_a_fragment_after_a_change_is_a_disclosure_too(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    student, standard = world.students[0], world.standards[0]
    login_as(world.teacher)
    before = last_id()
    response = client.post(f"/sections/{world.section.id}/students/{student.id}/standards/{standard.id}/observations",
                           headers=HTMX, data={"value": "3", "observed_on": "2026-10-05", "feedback": ""})
    assert response.status_code == 200
    assert [(v.action, v.student_id, v.detail["method"]) for v in views_after(before)] == [
        ("view.cell_detail", student.id, "POST")]


def test_a_refusal_or_a_redirect_writes_no_disclosure(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    mine, other = make_section(students=1), make_section(students=1)
    login_as(mine.teacher)
    before = last_id()
    assert client.get(f"/sections/{other.section.id}").status_code == 404
    assert client.get(f"/sections/{mine.section.id}/students/{other.students[0].id}").status_code == 404
    response = client.post(
        f"/sections/{mine.section.id}/students/{mine.students[0].id}/standards/{mine.standards[0].id}/observations",
        data={"value": "3", "observed_on": "2026-10-05"})
    assert response.status_code == 303  # without htmx: a redirect; the page it leads to is the disclosure
    assert views_after(before) == []


# ------------------------------------------------------------------ (c) a student's own record writes none

def test_a_student_viewing_their_own_record_writes_no_disclosure(app: Flask, world: World) -> None:
    client = app.test_client()
    login(client, world.users["student"])
    before, reached = last_id(), []
    for endpoint, _rule in get_routes(app):
        if "student" in ALLOWED[ACCESS[endpoint]]:
            response = client.get(_build(app, endpoint, world.params))
            reached.append((endpoint, response.status_code))
    assert ("family.record", 200) in reached and ("artifacts.download", 200) in reached
    assert ("portfolio.home", 200) in reached
    assert views_after(before) == []


# ------------------------------------------------------------------ (d) changes of who may see what

@pytest.fixture
def school(app: Flask):  # type: ignore[no-untyped-def]
    world = make_section(students=2, guardians=True)
    admin = make_user("admin")
    return world, admin


def changes_after(last: int) -> list[tuple[str, int | None, int | None, str | None, int | None]]:
    return [(e.action, e.actor_id, e.student_id, e.target_type, e.target_id) for e in rows_after(last)
            if not e.action.startswith(("view.", "auth."))]


def test_linking_and_unlinking_a_guardian_is_audited(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    student, guardian = world.students[1], world.guardians[0]
    login_as(admin)
    before = last_id()
    assert client.post(f"/admin/users/{student.id}", data={"action": "link", "email": guardian.email}).status_code == 303
    link = db.session.scalar(select(GuardianLink).where(GuardianLink.student_id == student.id,
                                                        GuardianLink.guardian_id == guardian.id))
    assert client.post(f"/admin/users/{student.id}", data={"action": "unlink", "link_id": link.id}).status_code == 303
    assert changes_after(before) == [("guardian.link", admin.id, student.id, "user", guardian.id),
                                     ("guardian.unlink", admin.id, student.id, "user", guardian.id)]


def test_a_refused_link_writes_nothing(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    login_as(admin)
    before = last_id()
    response = client.post(f"/admin/users/{world.students[0].id}", data={"action": "link", "email": world.teacher.email})
    assert response.status_code == 422
    assert changes_after(before) == []


def test_enrolling_and_unenrolling_is_audited_for_each_student(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    newcomers = [make_user("student"), make_user("student")]
    login_as(admin)
    before = last_id()
    response = client.post(f"/admin/sections/{world.section.id}",
                           data={"action": "enrol", "emails": "\n".join(s.email for s in newcomers)})
    assert response.status_code == 303
    enrolment = db.session.scalar(select(Enrollment).where(Enrollment.student_id == newcomers[0].id))
    assert client.post(f"/admin/sections/{world.section.id}",
                       data={"action": "unenrol", "enrollment_id": enrolment.id}).status_code == 303
    section = world.section.id
    assert changes_after(before) == [("enrollment.add", admin.id, newcomers[0].id, "section", section),
                                     ("enrollment.add", admin.id, newcomers[1].id, "section", section),
                                     ("enrollment.remove", admin.id, newcomers[0].id, "section", section)]


def test_an_enrolment_with_an_unknown_email_writes_nothing(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    newcomer = make_user("student")
    login_as(admin)
    before = last_id()
    response = client.post(f"/admin/sections/{world.section.id}",
                           data={"action": "enrol", "emails": f"{newcomer.email}\nnobody@example.org"})
    assert response.status_code == 422
    assert changes_after(before) == []


def test_a_set_password_link_is_audited_on_the_students_log_and_each_childs(client: FlaskClient, login_as,  # type: ignore[no-untyped-def]
                                                                           school) -> None:
    world, admin = school
    student, guardian = world.students[0], world.guardians[0]
    login_as(admin)
    before = last_id()
    for person in (student, guardian, world.teacher):
        assert client.post(f"/admin/users/{person.id}", data={"action": "password_link"}).status_code == 303
    assert changes_after(before) == [("user.set_password_link", admin.id, student.id, "user", student.id),
                                     ("user.set_password_link", admin.id, student.id, "user", guardian.id),
                                     ("user.set_password_link", admin.id, None, "user", world.teacher.id)]


def test_a_new_account_and_its_link_are_audited(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    _world, admin = school
    login_as(admin)
    before = last_id()
    response = client.post("/admin/users", data={"email": "new.student@example.org", "name": "New Student",
                                                 "role": "student"})
    assert response.status_code == 303
    new = db.session.scalar(select(User).where(User.email == "new.student@example.org"))
    assert changes_after(before) == [("user.create", admin.id, None, "user", new.id),
                                     ("user.set_password_link", admin.id, new.id, "user", new.id)]


def test_giving_a_section_its_teacher_is_audited(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    from gradebook.models import Section, Term

    term = db.session.scalar(select(Term))
    login_as(admin)
    before = last_id()
    response = client.post("/admin/sections", data={"name": "Science 8", "term_id": term.id,
                                                    "teacher_email": world.teacher.email})
    assert response.status_code == 303
    section = db.session.scalar(select(Section).where(Section.name == "Science 8"))
    changes = changes_after(before)
    assert changes == [("section.teacher", admin.id, None, "section", section.id)]
    assert rows_after(before)[-1].detail == {"teacher_id": world.teacher.id}


def test_an_override_and_its_clearing_are_audited(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, _admin = school
    student, standard = world.students[0], world.standards[0]
    record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                    competency_id=standard.id, value=CellValue("scored", 1.0), observed_on=date(2026, 10, 5))
    db.session.commit()
    login_as(world.teacher)
    url = f"/sections/{world.section.id}/students/{student.id}/standards/{standard.id}/override"
    before = last_id()
    assert client.post(url, headers=HTMX, data={"level": "3", "reason": "Explained it in conference."}).status_code == 200
    assert client.post(url, headers=HTMX, data={"level": "", "reason": ""}).status_code == 200
    changes = changes_after(before)
    assert [(a, actor, s, t) for a, actor, s, t, _id in changes] == [
        ("override.set", world.teacher.id, student.id, "override"),
        ("override.clear", world.teacher.id, student.id, "override")]
    set_row = next(e for e in rows_after(before) if e.action == "override.set")
    assert set_row.detail["reason"] == "Explained it in conference." and set_row.detail["level_points"] == 3


POLICY = {"method": "average", "weight": "0.65", "n": "2", "min_evidence": "1", "rollup": "average", "apply": "1"}


def test_a_section_policy_change_is_audited(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, _admin = school
    login_as(world.teacher)
    before = last_id()
    assert client.post(f"/sections/{world.section.id}/policy", data=POLICY).status_code == 303
    assert changes_after(before) == [("policy.section", world.teacher.id, None, "section", world.section.id)]
    assert rows_after(before)[-1].detail["new"]["method"] == "average"


def test_a_school_policy_change_is_audited(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    _world, admin = school
    login_as(admin)
    before = last_id()
    assert client.post("/admin/policy", data=POLICY).status_code == 303
    assert changes_after(before) == [("policy.school", admin.id, None, "school", make_school().id)]


def test_a_previewed_policy_writes_nothing(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, _admin = school
    login_as(world.teacher)
    before = last_id()
    assert client.post(f"/sections/{world.section.id}/policy", data={**POLICY, "apply": "0"}).status_code == 200
    assert changes_after(before) == []


def test_a_students_log_holds_who_saw_and_who_changed_access(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    student = world.students[0]
    issue_set_password_link(db.session, student, actor=admin)
    db.session.commit()
    login_as(world.guardians[0])
    client.get(f"/family/children/{student.id}")
    assert [(e.action, e.actor_id) for e in log_for_student(db.session, student.id)] == [
        ("view.family_page", world.guardians[0].id), ("user.set_password_link", admin.id)]


# ------------------------------------------------------------------ append-only

@pytest.fixture
def audit_row(app: Flask) -> AuditEvent:
    row = record_change(db.session, None, "guardian.link", student_id=make_user("student").id)
    db.session.commit()
    return row


def test_an_audit_row_cannot_be_changed(audit_row: AuditEvent) -> None:
    audit_row.action = "nothing.happened"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, audit_row.id).action == "guardian.link"


def test_an_audit_row_cannot_be_deleted(audit_row: AuditEvent) -> None:
    db.session.delete(audit_row)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, audit_row.id) is not None


@pytest.mark.parametrize("statement", [
    update(AuditEvent).values(action="x"),
    delete(AuditEvent),
    delete(AuditEvent.__table__),
    update(AuditEvent.__table__).values(actor_id=None),
], ids=["orm-update", "orm-delete", "core-delete", "core-update"])
def test_a_bulk_update_or_delete_of_the_audit_log_is_refused(audit_row: AuditEvent, statement) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) >= 1


# ------------------------------------------------------------------ a fixed number of queries with auditing

def test_the_grid_writes_its_rows_in_a_fixed_number_of_queries_for_1_and_35_students(  # type: ignore[no-untyped-def]
        client: FlaskClient, login_as, count_queries) -> None:
    teacher = make_user("teacher")
    small, large = make_section(students=1, teacher=teacher), make_section(students=35, teacher=teacher)
    for world in (small, large):
        for i, student in enumerate(world.students):
            record_evidence(db.session, teacher, section=world.section, student_id=student.id,
                            competency_id=world.standards[0].id, value=CellValue("scored", float(1 + i % 4)),
                            observed_on=date(2026, 10, 5))
    db.session.commit()
    login_as(teacher)
    counts, written = [], []
    for world in (small, large):
        before = last_id()
        with count_queries() as queries:
            assert client.get(f"/sections/{world.section.id}").status_code == 200
        counts.append(queries.count)
        written.append(len(views_after(before)))
        assert sum(1 for s in queries.statements if s.lstrip().upper().startswith("INSERT INTO AUDIT_LOG")) == 1
    assert written == [1, 35]
    assert counts[0] == counts[1], counts


# ------------------------------------------------------------------ the admin's page of a student's log

def test_the_admin_reads_a_students_log_and_reading_it_is_logged(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    student, guardian = world.students[0], world.guardians[0]
    login_as(guardian)
    client.get(f"/family/children/{student.id}")
    login_as(admin)
    html = client.get(f"/admin/users/{student.id}").get_data(as_text=True)
    assert f'href="/admin/users/{student.id}/audit"' in html
    before = last_id()
    html = client.get(f"/admin/users/{student.id}/audit").get_data(as_text=True)
    assert guardian.name in html and "saw the family page" in html and "saw the account page" in html
    assert [(v.action, v.actor_id, v.student_id) for v in views_after(before)] == [
        ("view.audit_log", admin.id, student.id)]


def test_only_a_student_has_an_audit_log_page(client: FlaskClient, login_as, school) -> None:  # type: ignore[no-untyped-def]
    world, admin = school
    login_as(admin)
    assert client.get(f"/admin/users/{world.teacher.id}/audit").status_code == 404
    assert client.get("/admin/users/999999/audit").status_code == 404
