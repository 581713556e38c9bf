"""Rough edges a new teacher or admin hit (issue 13): a checkbox that contradicted the page, messages said
twice or with the wrong plural, a spreadsheet of standards silently named "Imported standards"."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.interop import queue
from gradebook.models import Framework, ImportJob, Section
from gradebook.services.policy import change_section_policy
from tests.builders import make_section, make_user


def _box_checked(html: str) -> bool:
    box = re.search(r'<input type="checkbox" name="use_school"[^>]*>', html)
    assert box, "the page has the box"
    return "checked" in box.group(0)


def test_a_section_that_follows_the_school_has_the_box_ticked_on_load(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    login_as(world.teacher)
    page = client.get(f"/sections/{world.section.id}/policy").get_data(as_text=True)
    assert "This section follows the school&#39;s policy." in page or "This section follows the school's policy." in page
    assert _box_checked(page)


def test_a_section_with_its_own_policy_has_the_box_unticked_on_load(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    change_section_policy(db.session, world.teacher, db.session.get(Section, world.section.id), {"method": "highest"})
    db.session.commit()
    login_as(world.teacher)
    page = client.get(f"/sections/{world.section.id}/policy").get_data(as_text=True)
    assert "This section uses its own policy." in page and not _box_checked(page)


def test_a_preview_keeps_the_box_as_the_teacher_left_it(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    login_as(world.teacher)
    page = client.post(f"/sections/{world.section.id}/policy",
                       data={"method": "highest", "weight": "0.65", "n": "2", "min_evidence": "1",
                             "rollup": "average", "apply": "0", "version": "1"}).get_data(as_text=True)
    assert "If you apply this" in page and not _box_checked(page)


def test_enrolling_one_student_says_student_not_students(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=0)
    login_as(make_user("admin"))
    student = make_user("student")
    response = client.post(f"/admin/sections/{world.section.id}", data={"action": "enrol", "emails": student.email},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1 student enrolled." in page and "1 students" not in page


def _upload(client: FlaskClient, name: str, data: bytes, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/imports", data={"kind": "standards_csv", "file": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def test_a_failed_import_says_nothing_was_imported_once(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = _upload(client, "roster.zip", b"not a zip at all", kind="oneroster")
    page = client.get(response.location).get_data(as_text=True)
    job = db.session.scalars(select(ImportJob)).one()
    assert job.status == "failed" and job.message.startswith("Nothing was imported")
    assert page.count("Nothing was imported") == 1


def test_a_job_given_up_says_its_stage_once(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = _upload(client, "science.csv", b"code,statement\nSCI.1,Asks questions\n", framework_title="Sci")
    job = db.session.scalars(select(ImportJob)).one()
    job.status, job.stage = "failed", queue.FAILED_STAGE.get(job.kind, "Nothing was imported")
    job.message = "No worker took this job within an hour. Nothing was imported; start it again."
    db.session.commit()
    page = client.get(response.location).get_data(as_text=True)
    assert page.count("Nothing was imported") == 1


def test_a_standards_spreadsheet_without_a_title_is_named_after_its_file_and_says_so(client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                                    login_as) -> None:
    login_as(make_user("admin"))
    data = b"code,parent code,statement\nSCI,,Science practices\nSCI.1,SCI,Asks testable questions\n"
    response = _upload(client, "Grade_6 science.csv", data, framework_title="  ")
    checked = client.get(response.location).get_data(as_text=True)
    assert "No framework title was given, so the framework is named “Grade 6 science” after the file" in checked
    assert db.session.scalar(select(Framework.title)) is None  # a dry run: nothing yet
    dry = db.session.scalars(select(ImportJob)).one()
    applied = client.post(f"/admin/imports/{dry.id}/apply")
    page = client.get(applied.location).get_data(as_text=True)
    assert db.session.scalar(select(Framework.title)) == "Grade 6 science"
    assert "named “Grade 6 science” after the file" in page and "Imported standards" not in page
