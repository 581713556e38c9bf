"""The admin imports page: upload, a job page that htmx polls while the import runs, its report, and
failures that import nothing. (The importers themselves are tested in tests/db.)"""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.interop import jobs, queue
from gradebook.models import Competency, Framework, ImportJob, User
from tests.builders import make_user
from tests.db.test_case_import import CASE_DATA, table_rows
from tests.db.test_oneroster_import import roster_zip, two_schools

HTMX = {"HX-Request": "true"}


def _upload(client: FlaskClient, kind: str, name: str, data: bytes, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/imports", data={"kind": kind, "file": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def _apply(client: FlaskClient, job_id: int, *, skip_rejected: bool = False):  # type: ignore[no-untyped-def]
    """After reading the dry run's report: "Import" (or "import the valid rows and skip the N rejected")."""
    return client.post(f"/admin/imports/{job_id}/apply", data={"skip_rejected": "1"} if skip_rejected else {})


def _checked_then_imported(client: FlaskClient, response, **rule: bool) -> str:  # type: ignore[no-untyped-def]
    """Upload's dry run, then the import: the import job's page."""
    dry = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert dry is not None and dry.report["outcome"] == "dry_run", dry.message
    applied = _apply(client, dry.id, **rule)
    assert applied.status_code == 303, applied.data
    return client.get(applied.location).get_data(as_text=True)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_case_package_uploaded_on_the_page_is_imported_and_reported(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = _upload(client, "case", "crosswalk.json", (CASE_DATA / "ccss-math-6rp-crosswalk.json").read_bytes())
    assert response.status_code == 303 and "/admin/imports/" in response.location
    checked = client.get(response.location).get_data(as_text=True)
    assert "Dry run" in checked and ">Import</button>" in checked and _count(Framework) == 0
    page = _checked_then_imported(client, response)
    job = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert job is not None
    assert (job.status, job.progress, "Open the framework" in page, "hx-trigger" in page) == ("done", 100, True, False)
    assert _count(Framework) >= 1 and _count(Competency) > 5
    assert job.message in page


def test_the_uploaded_file_is_removed_once_the_job_has_ended(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = _upload(client, "case", "utf8.json", (CASE_DATA / "utf8.json").read_bytes())
    job = db.session.scalars(select(ImportJob)).one()
    assert (jobs.folder(app) / job.stored_name).exists()  # kept for the import the dry run leads to
    _checked_then_imported(client, response)
    assert not (jobs.folder(app) / job.stored_name).exists()
    assert _apply(client, job.id).status_code == 303 and _count(ImportJob) == 2  # once imported, not again


def test_a_broken_file_fails_with_its_reason_and_imports_nothing(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    before = {name: rows for name, rows in table_rows().items() if name not in ("import_jobs", "audit_events")}
    response = _upload(client, "case", "broken.json", b'{"CFDocument": {"identifier": "x"')
    page = client.get(response.location).get_data(as_text=True)
    after = {name: rows for name, rows in table_rows().items() if name not in ("import_jobs", "audit_events")}
    job = db.session.scalars(select(ImportJob)).one()
    assert (job.status, "Nothing was imported" in page, bool(job.message), after == before) == \
        ("failed", True, True, True)
    assert job.message in page.replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"')


def test_a_roster_import_emails_the_set_password_links_and_shows_none(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = _upload(client, "oneroster", "roster.zip", roster_zip(two_schools()))
    checked = db.session.scalars(select(ImportJob)).one()
    assert "28 new account(s) would get a set-password link by e-mail" in checked.message
    page = _checked_then_imported(client, response)
    job = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert job is not None and job.status == "done", job.message
    assert _count(User) - 1 == 28  # everyone imported; not the admin who ran it
    assert "28 new account(s) got a set-password link by e-mail" in page
    assert "/set-password/" not in page and "/set-password/" not in str(job.report)  # never shown, never stored
    assert any(label == "created" and "users" in value for label, value in job.report["facts"])


def test_rejected_rows_are_listed_with_file_and_row(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    tables = two_schools()
    tables["users"].append({"sourcedId": "x1", "enabledUser": "true", "orgSourcedIds": "north", "role": "wizard",
                            "username": "x1", "givenName": "X", "familyName": "Y", "email": "x1@river.example"})
    response = _upload(client, "oneroster", "roster.zip", roster_zip(tables))
    page = client.get(response.location).get_data(as_text=True)
    job = db.session.scalars(select(ImportJob)).one()
    assert job.report["lists"]["rejected"] and "users.csv row" in job.report["lists"]["rejected"][0]
    assert "Rejected (1)" in page


def test_a_spreadsheet_of_standards_takes_the_framework_title_from_the_form(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    data = b"code,parent code,statement\nSCI,,Science practices\nSCI.1,SCI,Asks testable questions\n"
    response = _upload(client, "standards_csv", "science.csv", data, framework_title="Science practices 2026")
    job = db.session.scalars(select(ImportJob)).one()
    assert job.status == "done", job.message
    _checked_then_imported(client, response)
    assert db.session.scalar(select(Framework.title)) == "Science practices 2026"


def test_no_file_or_no_kind_gets_a_message_and_makes_no_job(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    no_file = client.post("/admin/imports", data={"kind": "case"}, content_type="multipart/form-data")
    no_kind = _upload(client, "spreadsheet", "x.csv", b"code,statement\nA,B\n")
    empty = _upload(client, "case", "empty.json", b"")
    assert [r.status_code for r in (no_file, no_kind, empty)] == [422, 422, 422]
    assert b"Choose a file to import." in no_file.data and b"Choose what kind of file this is." in no_kind.data
    assert _count(ImportJob) == 0


def test_a_file_over_the_limit_is_refused_before_it_is_stored(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    stored = set(Path(jobs.folder(app)).iterdir())
    response = _upload(client, "case", "huge.json", b" " * (jobs.MAX_IMPORT_BYTES + 1))
    assert (response.status_code, b"larger than 50 MB" in response.data, _count(ImportJob)) == (422, True, 0)
    assert set(Path(jobs.folder(app)).iterdir()) == stored


def test_a_running_job_polls_and_the_poll_gets_only_the_fragment(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    job = jobs.create_job(db.session, app, kind="case", filename="later.json", data=b"{}", actor=admin)
    db.session.commit()
    login_as(admin)
    full = client.get(f"/admin/imports/{job.id}").get_data(as_text=True)
    fragment = client.get(f"/admin/imports/{job.id}", headers=HTMX).get_data(as_text=True)
    assert ('hx-trigger="every 1s"' in full, "<progress" in full, "You can leave this page" in full) == \
        (True, True, True)
    assert (fragment.lstrip().startswith('<div id="import-job"'), "<nav" in fragment) == (True, False)


def test_recent_imports_are_listed_on_the_page(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    _upload(client, "case", "ordering.json", (CASE_DATA / "ordering.json").read_bytes())
    page = client.get("/admin/imports").get_data(as_text=True)
    assert "ordering.json" in page and "done" in page


def test_an_unknown_job_is_not_found(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    assert client.get("/admin/imports/999").status_code == 404


def test_a_body_beyond_the_upload_limit_gets_a_clear_413(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = _upload(client, "oneroster", "huge.zip", b"\0" * (jobs.MAX_IMPORT_BYTES + 2 * 1024 * 1024))
    assert (response.status_code, b"Files up to 51 MB can be sent here" in response.data, _count(ImportJob)) == \
        (413, True, 0)


def test_a_roster_import_reports_its_progress_file_by_file(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, str]] = []
    real = queue.Heartbeat.progress
    monkeypatch.setattr(queue.Heartbeat, "progress", lambda self, percent, stage: (seen.append((percent, stage)),
                                                                                    real(self, percent, stage)))
    admin = make_user("admin")
    job = jobs.create_job(db.session, app, kind="oneroster", filename="r.zip", data=roster_zip(two_schools()),
                          actor=admin)
    db.session.commit()
    queue.run(app, job.id)
    stages = [stage for _, stage in seen]
    assert "Importing users.csv" in stages and "Importing enrollments.csv" in stages
    assert [percent for percent, _ in seen] == sorted(percent for percent, _ in seen)


def _dead_job(app: Flask, attempts: int, data: bytes) -> ImportJob:
    """A job a worker claimed and then died running: no heartbeat for longer than the lease."""
    from datetime import timedelta

    admin = make_user("admin")
    job = jobs.create_job(db.session, app, kind="case", filename="old.json", data=data, actor=admin)
    job.status, job.attempts, job.worker = "running", attempts, "another-host:4242"
    job.started_at = job.created_at - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1)
    db.session.commit()
    return job


def test_a_job_whose_worker_died_on_its_last_attempt_says_so_instead_of_polling_for_ever(
        app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    job = _dead_job(app, attempts=2, data=b"{}")
    login_as(db.session.get(User, job.created_by_id))
    page = client.get(f"/admin/imports/{job.id}").get_data(as_text=True)
    assert ("stopped (attempt 2 of 2)" in page, "hx-trigger" in page, db.session.get(ImportJob, job.id).status) == \
        (True, False, "failed")
    assert not (jobs.folder(app) / job.stored_name).exists()


def test_a_job_whose_worker_died_is_run_again_and_gives_the_same_result(
        app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    data = (CASE_DATA / "ordering.json").read_bytes()
    job = _dead_job(app, attempts=1, data=data)
    login_as(db.session.get(User, job.created_by_id))
    client.get(f"/admin/imports/{job.id}")  # the poll notices the dead worker; the job is queued again and runs
    job = db.session.get(ImportJob, job.id)
    assert (job.status, job.attempts) == ("done", 2), job.message
    once = {name: rows for name, rows in table_rows().items() if name not in ("import_jobs", "audit_events")}
    again = jobs.create_job(db.session, app, kind="case", filename="again.json", data=data,
                            actor=db.session.get(User, job.created_by_id))
    db.session.commit()
    queue.run(app, again.id)
    twice = {name: rows for name, rows in table_rows().items() if name not in ("import_jobs", "audit_events")}
    assert twice == once


def test_report_counts_read_as_words_singular_for_one() -> None:
    from collections import Counter
    from dataclasses import dataclass, field

    from gradebook.interop.jobs import report_as_dict

    @dataclass
    class Report:
        created: Counter = field(default_factory=lambda: Counter(terms=1, guardian_links=2))

    assert report_as_dict(Report())["facts"] == [["created", "1 term, 2 guardian links"]]


# ---------------------------------------------------------------- issue 15: the import rule on the page

ROSTERS = Path(__file__).resolve().parents[1] / "data" / "oneroster"  # copied unchanged from ../shared/testdata


def test_a_dry_run_with_rejected_rows_imports_nothing_until_the_admin_skips_them(client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                               login_as) -> None:
    login_as(make_user("admin"))
    before = _count(User)
    response = _upload(client, "oneroster", "v1p2.zip", (ROSTERS / "catalyst-v1p2-full.zip").read_bytes())
    page = client.get(response.location).get_data(as_text=True)
    dry = db.session.scalars(select(ImportJob)).one()

    rejected = dry.report["rejected_count"]
    assert (dry.report["outcome"], rejected, _count(User)) == ("dry_run", 4, before)
    assert f"Import the valid rows and skip the {rejected} rejected" in page and "Rejected (4)" in page
    assert "roles.csv" in page or "users.csv row" in page

    refused = _apply(client, dry.id)  # "Import" without skipping: a file with a rejected row imports nothing
    assert refused.status_code == 303 and _count(ImportJob) == 1 and _count(User) == before
    assert "skip the 4 rejected" in client.get(refused.location).get_data(as_text=True)

    page = _checked_then_imported(client, response, skip_rejected=True)
    job = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert job is not None and (job.status, job.report["outcome"]) == ("done", "imported")
    assert "Imported the valid rows; the 4 rejected rows" in page and "got a set-password link by e-mail" in page
    assert _count(User) == before + 5


def test_an_account_without_email_gets_a_link_and_signs_in_with_its_username(client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                             login_as) -> None:
    admin = make_user("admin")
    login_as(admin)
    tables = two_schools()
    for user in tables["users"]:
        if user["role"] == "student":
            user["email"] = ""  # young students often have none
    response = _upload(client, "oneroster", "roster.zip", roster_zip(tables))
    page = _checked_then_imported(client, response)
    job = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert job is not None
    assert "20 new account(s) have no e-mail address and sign in with their username" in job.message
    assert "8 new account(s) got a set-password link by e-mail" in job.message  # the teachers, families, admin
    person = next(x for x in job.report["in_person"] if x["username"] == "student1")
    assert "username student1" in page and "/set-password/" not in page
    assert f'href="/admin/users/{person["user_id"]}"' in page  # where the admin makes the link, to give in person

    made = client.post(f"/admin/users/{person['user_id']}", data={"action": "password_link"}, follow_redirects=True)
    link = re.search(r"/set-password/[\w-]+", made.get_data(as_text=True))
    assert link is not None
    client.post("/logout")
    token = link.group(0).rsplit("/", 1)[1]
    set_pw = client.post(f"/set-password/{token}", data={"new_password": "a long new password",
                                                         "confirm": "a long new password"})
    assert set_pw.status_code == 303
    login_page = client.get("/login").get_data(as_text=True)
    assert "E-mail or username" in login_page
    signed_in = client.post("/login", data={"email": "Student1", "password": "a long new password"})
    assert signed_in.status_code == 303 and signed_in.location.endswith("/portfolio")


def test_a_standards_admin_page_shows_its_is_related_to_links(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from gradebook.interop.case_import import import_case
    from gradebook.models import Crosswalk

    login_as(make_user("admin"))
    import_case(db.session, (CASE_DATA / "ccss-math-6rp-crosswalk.json").read_bytes(), actor=None)
    db.session.commit()
    link = db.session.scalars(select(Crosswalk).where(Crosswalk.kind == "isRelatedTo")).first()
    assert link is not None

    page = client.get(f"/admin/competencies/{link.competency_id}").get_data(as_text=True)

    assert "Linked standards" in page and "Related to" in page and "Same as" in page


def test_a_teacher_enrolled_as_a_student_appears_in_that_class_and_can_be_assessed(client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                                   login_as) -> None:
    from gradebook.interop.oneroster import import_oneroster
    from gradebook.models import Section, SectionStandard
    from gradebook.services.accounts import hash_password
    from tests.builders import make_framework
    from tests.conftest import PASSWORD

    import_oneroster(db.session, (ROSTERS / "catalyst-v1p1-full.zip").read_bytes(), actor=None, skip_rejected=True)
    physics = db.session.scalars(select(Section).where(Section.sourced_id == "cls-222-123456")).one()
    standard = make_framework(1)[0]
    db.session.add(SectionStandard(section_id=physics.id, competency_id=standard.id, position=0))
    john = db.session.scalars(select(User).where(User.sourced_id == "usr-222-123456")).one()
    jim = db.session.scalars(select(User).where(User.sourced_id == "usr-222-987654")).one()
    john.password_hash = hash_password(PASSWORD)
    db.session.commit()
    login_as(john)

    grid = client.get(f"/sections/{physics.id}").get_data(as_text=True)
    cell = client.get(f"/sections/{physics.id}/students/{jim.id}/standards/{standard.id}")

    assert jim.role == "teacher" and "Jim Smith" in grid
    assert cell.status_code == 200
