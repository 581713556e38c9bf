"""Every route of app.url_map against every role: who gets in, who is refused, and how.

A new route must join ACCESS below, or test_every_route_is_in_the_access_table fails; its view must also
declare whether it discloses a student's record (@discloses / @discloses_none, see tests/web/test_audit.py).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask

from gradebook.extensions import db
from gradebook.interop import school_jobs
from gradebook.models import (
    Evidence,
    Framework,
    Goal,
    GoalStep,
    GuardianLink,
    ImportJob,
    PortfolioEntry,
    School,
)
from gradebook.services.accounts import issue_set_password_link
from gradebook.services.artifacts import Upload, store_upload
from tests.builders import make_assessment, make_habits, make_section, make_user
from tests.conftest import login

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
ROLES = ["anonymous", "student", "other_student", "guardian", "other_guardian", "teacher", "other_teacher", "admin",
         "school_admin", "other_school_admin"]
# "admin" is a district admin (every school); "school_admin" the admin of section A's school, where every
# object of the world lives; "other_school_admin" the admin of section B's school: 404 on this school's objects.
SCHOOL_ADMINS = {"school_admin", "other_school_admin"}

# Who may reach a route (the view runs); everyone else gets the status of their kind of refusal.
PUBLIC = "public"              # anyone, logged in or not
ANY_USER = "any_user"          # any logged-in user
ADMIN = "admin"                # admins only, a page of their own schools' (others: 403)
ADMIN_OBJECT = "admin_object"  # an admin page of one of this school's objects: another school's admin 404
TEACHERS = "teachers"          # teachers and admins (others: 403)
SECTION = "section"            # a teacher of the section, or an admin; another teacher: 404; others 403
STUDENTS = "students"          # students only, each sees their own (others: 403)
GUARDIANS = "guardians"        # guardians only (others: 403)
CHILD = "child"                # the child's guardian only; another family's guardian: 404; others 403
STUDENT_VIEWERS = "student_viewers"  # the student, their guardian, their teacher, admin; others: 404
CHILD_VIEWERS = "child_viewers"  # the child's guardian, the child's teacher, admin; other family/teacher: 404
STUDENT_IN_SECTION = "student_in_section"  # the student, on a section they are in; another student: 404
STUDENT_OWN = "student_own"    # the student, on their own record; another student: 404

ACCESS: dict[str, str] = {
    "static": PUBLIC,
    "main.index": PUBLIC,
    "main.healthz": PUBLIC,
    "main.scale_css": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.set_password": PUBLIC,
    "auth.account": ANY_USER,
    "i18n.switch_language": PUBLIC,
    "artifacts.download": STUDENT_VIEWERS,
    "admin.home": ADMIN,
    "admin.policy": ADMIN,
    "admin.grade_bridge": ADMIN,
    "admin.grade_bridge_preview": ADMIN,
    "admin.term_grades_csv": ADMIN,
    "admin.scale": ADMIN,
    "admin.frameworks": ADMIN,
    "admin.framework": ADMIN_OBJECT,
    "admin.competency": ADMIN_OBJECT,
    "admin.users": ADMIN,
    "admin.user": ADMIN_OBJECT,
    "admin.audit_log": ADMIN_OBJECT,
    "admin.sections": ADMIN,
    "admin.section": ADMIN_OBJECT,
    "admin.section_standards": ADMIN_OBJECT,
    "admin.terms": ADMIN,
    "admin.imports": ADMIN,
    "admin.import_job": ADMIN_OBJECT,
    "admin.apply_import": ADMIN_OBJECT,
    "gradebook.section_policy": SECTION,
    "gradebook.my_sections": TEACHERS,
    "gradebook.grid": SECTION,
    "gradebook.export_csv": SECTION,
    "gradebook.export_oneroster": SECTION,
    "gradebook.export_case_json": SECTION,
    "gradebook.assessments": SECTION,
    "gradebook.new_assessment": SECTION,
    "gradebook.edit_assessment": SECTION,
    "gradebook.entry": SECTION,
    "gradebook.save_cell": SECTION,
    "gradebook.fill_column": SECTION,
    "gradebook.assessment_feedback": SECTION,
    "gradebook.save_comment_to_bank": SECTION,
    "gradebook.cell_detail": SECTION,
    "gradebook.add_observation": SECTION,
    "gradebook.edit_evidence": SECTION,
    "gradebook.remove_evidence": SECTION,
    "gradebook.attach_artifact": SECTION,
    "gradebook.restore_evidence": SECTION,
    "gradebook.override": SECTION,
    "gradebook.reteach": SECTION,
    "gradebook.student": SECTION,
    # habits of work (#17 part 1)
    "gradebook.section_habits": SECTION,
    "gradebook.habit_detail": SECTION,
    "gradebook.add_habit_observation": SECTION,
    "gradebook.save_habit_cell": SECTION,
    "portfolio.home": STUDENTS,
    "portfolio.why": STUDENT_IN_SECTION,
    "portfolio.reply": STUDENT_OWN,
    "portfolio.request_reassessment": STUDENT_IN_SECTION,
    "portfolio.new_entry": STUDENTS,
    "portfolio.feature_entry": STUDENT_OWN,
    "portfolio.edit_entry": STUDENT_OWN,
    "portfolio.remove_entry": STUDENT_OWN,
    "portfolio.restore_entry": STUDENT_OWN,
    "portfolio.new_goal": STUDENTS,
    "portfolio.toggle_step": STUDENT_OWN,
    "portfolio.profile": STUDENTS,
    "family.home": GUARDIANS,
    "family.child": CHILD,
    "family.why": CHILD,
    "family.conference": CHILD_VIEWERS,
    "family.comment_goal": CHILD,
    "family.record": STUDENT_VIEWERS,
    "family.term_report": STUDENT_VIEWERS,
    "admin.jobs": ADMIN,
    "admin.job": ADMIN_OBJECT,
    "admin.job_download": ADMIN_OBJECT,
    "paths.student_path": STUDENT_IN_SECTION,
    "paths.student_focus": STUDENT_IN_SECTION,
    "paths.student_activity": STUDENT_IN_SECTION,
    "paths.student_ready": STUDENT_IN_SECTION,
    "paths.student_withdraw": STUDENT_IN_SECTION,
    # learning paths (#12), the teacher's pages and an activity's file
    "paths.activity_file": STUDENT_VIEWERS,
    "paths_teacher.editor": SECTION,
    "paths_teacher.create_unit": SECTION,
    "paths_teacher.edit_unit": SECTION,
    "paths_teacher.move_unit": SECTION,
    "paths_teacher.add_prerequisite": SECTION,
    "paths_teacher.standard": SECTION,
    "paths_teacher.create_activity": SECTION,
    "paths_teacher.edit_activity": SECTION,
    "paths_teacher.copy_playlist": SECTION,
    "paths_teacher.add_way": SECTION,
    "paths_teacher.pacing": SECTION,
    "paths_teacher.student": SECTION,
    "paths_teacher.own_target_date": SECTION,
    "paths_teacher.leave_out": SECTION,
    "paths_teacher.assign_group": SECTION,
    "paths_teacher.assign": SECTION,
    "paths_teacher.queue": SECTION,
    "paths_teacher.score_request": SECTION,
    "paths_teacher.unassign": SECTION,
    "paths_teacher.remove_adjustment": SECTION,
    "paths_teacher.remove_way": SECTION,
    "paths_teacher.delete_activity": SECTION,
    "paths_teacher.remove_prerequisite": SECTION,
    "paths_teacher.delete_unit": SECTION,
}

ALLOWED: dict[str, set[str]] = {
    PUBLIC: set(ROLES),
    ANY_USER: set(ROLES) - {"anonymous"},
    ADMIN: {"admin"} | SCHOOL_ADMINS,
    ADMIN_OBJECT: {"admin", "school_admin"},
    TEACHERS: {"teacher", "other_teacher", "admin"} | SCHOOL_ADMINS,
    SECTION: {"teacher", "admin", "school_admin"},
    STUDENTS: {"student", "other_student"},
    GUARDIANS: {"guardian", "other_guardian"},
    CHILD: {"guardian"},
    CHILD_VIEWERS: {"guardian", "teacher", "admin", "school_admin"},
    STUDENT_VIEWERS: {"student", "guardian", "teacher", "admin", "school_admin"},
    STUDENT_IN_SECTION: {"student"},
    STUDENT_OWN: {"student"},
}

# A refused user who has the right role but not this object gets 404, so ids cannot be probed.
NOT_FOUND_FOR: dict[str, set[str]] = {
    ADMIN_OBJECT: {"other_school_admin"},
    SECTION: {"other_teacher", "other_school_admin"},
    CHILD: {"other_guardian"},
    CHILD_VIEWERS: {"other_guardian", "other_teacher", "other_school_admin"},
    STUDENT_VIEWERS: {"other_student", "other_guardian", "other_teacher", "other_school_admin"},
    STUDENT_IN_SECTION: {"other_student"},
    STUDENT_OWN: {"other_student"},
}


@dataclass
class World:
    users: dict[str, object]
    params: dict[str, object]


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


def build_world(app: Flask) -> World:
    """Two sections (A, B) of one student and guardian each, in two schools; a district admin and each school's
    admin; one of everything in section A (its school's)."""
    a = make_section(students=1, standards=2, guardians=True, name="Section A")
    south = School(name="South School", default_policy={})
    db.session.add(south)
    db.session.commit()
    b = make_section(students=1, standards=2, guardians=True, name="Section B", school=south)
    admin = make_user("admin")
    school_admin = make_user("admin", school=db.session.get(School, a.section.school_id))
    other_school_admin = make_user("admin", school=south)
    db.session.get(Framework, a.standards[0].framework_id).school_id = a.section.school_id
    assessment = make_assessment(a)
    evidence = Evidence(student_id=a.students[0].id, section_id=a.section.id, competency_id=a.standards[0].id,
                        assessment_id=assessment.id, status="scored", score=3, observed_on=date(2026, 10, 5),
                        recorded_by_id=a.teacher.id)
    entry = PortfolioEntry(student_id=a.students[0].id, title="Work", visibility="family")
    goal = Goal(student_id=a.students[0].id, title="Goal")
    db.session.add_all([evidence, entry, goal])
    db.session.flush()
    step = GoalStep(goal_id=goal.id, text="Step")
    db.session.add(step)
    db.session.flush()
    token = issue_set_password_link(db.session, a.students[0])
    # A finished whole-school export (its file ready), so the job pages and the download all answer; an
    # import's page sends it to the job page.
    job = ImportJob(kind="export", filename="gradebook-school-export.zip", stored_name="world-export.zip",
                    created_by_id=admin.id, status="done", progress=100, stage="Finished",
                    school_id=a.section.school_id)
    db.session.add(job)
    with zipfile.ZipFile(school_jobs.folder(app) / job.stored_name, "w") as archive:
        archive.writestr("manifest.json", "{}")
    artifact = store_upload(db.session, Upload("work.png", io.BytesIO(PNG)), folder=app.config["UPLOAD_FOLDER"],
                            owner_student_id=a.students[0].id, uploaded_by=a.teacher, evidence_id=evidence.id)
    db.session.commit()
    assert db.session.query(GuardianLink).count() == 2
    users = {
        "student": a.students[0], "other_student": b.students[0],
        "guardian": a.guardians[0], "other_guardian": b.guardians[0],
        "teacher": a.teacher, "other_teacher": b.teacher, "admin": admin,
        "school_admin": school_admin, "other_school_admin": other_school_admin,
    }
    params = {
        "section_id": a.section.id, "student_id": a.students[0].id, "assessment_id": assessment.id,
        "evidence_id": evidence.id, "competency_id": a.standards[0].id, "standard_id": a.standards[0].id,
        "framework_id": a.standards[0].framework_id, "job_id": job.id, "user_id": a.students[0].id, "entry_id": entry.id, "artifact_id": artifact.id, "step_id": step.id, "goal_id": goal.id, "token": token, "filename": "css/app.css",
    }
    params.update(_path_params(app, a))
    params["habit_id"] = make_habits(a)[0].id
    return World(users, params)


def _path_params(app: Flask, a) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A learning path in section A with one of everything, for the path routes' ids."""
    from gradebook.models import ReadyToShow
    from gradebook.services import paths

    unit = paths.create_unit(db.session, a.teacher, a.section, title="Unit", starts_on=date(2026, 9, 1),
                             target_on=date(2026, 10, 1), competency_ids=[a.standards[0].id])
    prerequisite = paths.add_prerequisite(db.session, a.teacher, a.section, competency_id=a.standards[1].id,
                                          requires_id=a.standards[0].id)
    activity = paths.create_activity(db.session, a.teacher, a.section,
                                     paths.ActivityInput(competency_id=a.standards[0].id, title="Video"),
                                     upload=Upload("sheet.png", io.BytesIO(PNG)),
                                     upload_folder=app.config["UPLOAD_FOLDER"])
    way = paths.add_way_to_show(db.session, a.teacher, a.section, competency_id=a.standards[0].id, title="Test")
    adjustment = paths.leave_out_standard(db.session, a.teacher, a.section, student_id=a.students[0].id,
                                          competency_id=a.standards[1].id, reason="Shown elsewhere")
    paths.assign_activities(db.session, a.teacher, a.section, activity_ids=[activity.id],
                            student_ids=[a.students[0].id])
    from gradebook.models import ActivityAssignment

    assignment = db.session.query(ActivityAssignment).one()
    ready = ReadyToShow(section_id=a.section.id, student_id=a.students[0].id, competency_id=a.standards[0].id,
                        way_id=way.id)
    db.session.add(ready)
    db.session.commit()
    return {"unit_id": unit.id, "prerequisite_id": prerequisite.id, "activity_id": activity.id, "way_id": way.id,
            "adjustment_id": adjustment.id, "assignment_id": assignment.id, "request_id": ready.id}


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, rule.rule, method))
    return routes


def test_every_route_is_in_the_access_table(app: Flask) -> None:
    missing = sorted({endpoint for endpoint, _rule, _method in _routes(app)} - set(ACCESS))
    assert missing == [], f"add these endpoints to ACCESS in {__file__}: {missing}"


def test_every_non_public_view_declares_its_roles(app: Flask) -> None:
    undeclared = [
        endpoint for endpoint, _rule, _method in _routes(app)
        if ACCESS.get(endpoint) != PUBLIC and not hasattr(app.view_functions[endpoint], "allowed_roles")
    ]
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
def test_route_by_role(app: Flask, world: World, role: str) -> None:
    failures = []
    for endpoint, rule, method in _routes(app):
        access = ACCESS[endpoint]
        client = app.test_client()
        if role != "anonymous":
            login(client, world.users[role])
        url = _build(app, endpoint, world.params)
        response = client.open(url, method=method, data={})
        status = response.status_code
        location = response.headers.get("Location", "")
        if status >= 500:
            failures.append(f"{method} {rule}: {status} (server error)")
        elif role in ALLOWED[access]:
            if status in (401, 403, 404) or (status in (302, 303) and "/login" in location and access != PUBLIC):
                failures.append(f"{method} {rule}: {role} should get in, got {status} {location}")
        else:
            expected = _refusal(access, role)
            if expected == 302:
                if status != 302 or "/login" not in location:
                    failures.append(f"{method} {rule}: {role} should be sent to log in, got {status}")
            elif status != expected:
                failures.append(f"{method} {rule}: {role} should get {expected}, got {status}")
    assert failures == []


def _refusal(access: str, role: str) -> int:
    if role == "anonymous":
        return 302
    if role in NOT_FOUND_FOR.get(access, set()):
        return 404
    return 403


def _build(app: Flask, endpoint: str, params: dict[str, object]) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {name: params[name] for name in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)
