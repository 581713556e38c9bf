"""Long work as jobs from the admin pages: the school-wide recompute after a policy or scale change runs on
the queue, not in the request; exports and backups are made in the background and downloaded when ready;
/healthz says whether the database and the queue answer; requests and jobs log one line each, without
student data. (Real worker processes: tests/db/test_job_queue.py.)"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook import create_app
from gradebook.extensions import db
from gradebook.interop import queue
from gradebook.models import AuditEvent, Job, ProficiencyRecord, School
from gradebook.services.artifacts import Upload, store_upload
from tests.builders import make_user
from tests.web.test_setup import POLICY, _world_with_scores

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def queued(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """Jobs sent to the queue are kept here instead of running (as when no worker has taken them yet)."""
    sent: list[int] = []
    monkeypatch.setattr(queue, "enqueue", lambda _app, job_id: sent.append(job_id))
    return sent


def _score(world) -> float | None:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(ProficiencyRecord.score).where(
        ProficiencyRecord.competency_id == world.standards[0].id).limit(1))


def test_a_new_school_policy_is_saved_at_once_and_its_recompute_runs_on_the_queue(
        app: Flask, client: FlaskClient, login_as, queued: list[int]) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_scores()
    login_as(make_user("admin"))
    before = _score(world)
    response = client.post("/admin/policy", data={**POLICY, "apply": "1"})
    job = db.session.scalars(select(Job)).one()
    assert (response.status_code, response.location, job.kind, job.status) == \
        (303, f"/admin/jobs/{job.id}", "recompute", "queued")
    assert queued == [job.id]
    assert db.session.scalar(select(School.default_policy))["method"] == "average"
    assert _score(world) == before  # the request did not recompute

    page = client.get(response.location).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page and "being recomputed" in page
    db.session.rollback()  # end the test's read, as a request would
    queue.run(app, job.id)  # what the worker does
    db.session.rollback()
    assert (db.session.get(Job, job.id).status, _score(world)) == ("done", 2.5)
    done = client.get(response.location, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Recomputed" in done and "hx-trigger" not in done and "<nav" not in done


def test_saving_the_scale_queues_the_recompute(client: FlaskClient, login_as, queued: list[int]) -> None:  # type: ignore[no-untyped-def]
    from gradebook.models import ScaleLevel

    _world_with_scores()
    login_as(make_user("admin"))
    levels = db.session.scalars(select(ScaleLevel)).all()
    data = {f"label_{lv.points:g}": f"Level {lv.points:g}" for lv in levels}
    data.update({f"colour_{lv.points:g}": lv.colour for lv in levels})
    data["mastery"] = "3"
    response = client.post("/admin/scale", data=data)
    assert response.status_code == 303, response.data
    assert [job.kind for job in db.session.scalars(select(Job))] == ["recompute"] and len(queued) == 1


def test_a_backup_made_on_the_page_holds_the_uploaded_files(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_scores()
    artifact = store_upload(db.session, Upload("work.png", io.BytesIO(PNG)), folder=app.config["UPLOAD_FOLDER"],
                            owner_student_id=world.students[0].id, uploaded_by=world.teacher)
    db.session.commit()
    admin = make_user("admin")
    login_as(admin)
    started = client.post("/admin/jobs", data={"kind": "backup"})
    assert started.status_code == 303
    page = client.get(started.location).get_data(as_text=True)
    assert "Download gradebook-backup.zip" in page
    download = client.get(started.location + "/download")
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert archive.read(f"files/{artifact.stored_name}") == PNG
    assert json.loads(archive.read("manifest.json"))["files"]["count"] == 1
    disclosed = set(db.session.scalars(select(AuditEvent.student_id).where(
        AuditEvent.action == "view.school_export", AuditEvent.actor_id == admin.id)))
    assert disclosed == {student.id for student in world.students}  # a backup discloses every student


def test_only_an_export_or_a_backup_can_be_started_and_an_unfinished_job_has_nothing_to_download(
        client: FlaskClient, login_as, queued: list[int]) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    refused = client.post("/admin/jobs", data={"kind": "recompute"})
    assert (refused.status_code, b"Choose an export or a backup" in refused.data) == (422, True)
    started = client.post("/admin/jobs", data={"kind": "export"})
    early = client.get(started.location + "/download")
    assert (early.status_code, early.location) == (303, started.location)
    listing = client.get("/admin/jobs").get_data(as_text=True)
    assert "School export" in listing and "queued" in listing


def test_a_failed_export_says_so_and_leaves_no_file(app: Flask, client: FlaskClient, login_as, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gradebook.interop import export, school_jobs

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(export, "school_zip", broken)
    login_as(make_user("admin"))
    started = client.post("/admin/jobs", data={"kind": "export"})
    job = db.session.scalars(select(Job)).one()
    page = client.get(started.location).get_data(as_text=True)
    assert (job.status, "No file was written" in page, "OSError" in job.message) == ("failed", True, True)
    assert not (school_jobs.folder(app) / job.stored_name).exists()
    assert [p for p in school_jobs.folder(app).iterdir() if p.name.startswith(f".{job.stored_name}")] == []


# ---------------------------------------------------------------- health and logs


def test_healthz_says_the_database_and_the_queue_answer(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json["ok"], response.json["down"]) == (200, True, [])
    assert set(response.json["checks"]) == {"database", "queue"}


def _health_of(settings: dict[str, object]) -> tuple[int, dict]:  # type: ignore[type-arg]
    app = create_app({"TESTING": True, "SECRET_KEY": "x", **settings})
    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    return response.status_code, response.json


def test_healthz_says_which_is_down(tmp_path: Path) -> None:
    from tests.conftest import database_url

    status, body = _health_of({"SQLALCHEMY_DATABASE_URI": database_url(), "JOB_QUEUE_URL": "redis://127.0.0.1:1/0"})
    assert (status, body["down"]) == (503, ["queue"]) and "does not answer" in body["checks"]["queue"]["detail"]

    status, body = _health_of({"SQLALCHEMY_DATABASE_URI": database_url(),
                               "JOB_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}"})
    assert (status, body["down"]) == (503, ["queue"]) and "no worker has been seen" in body["checks"]["queue"]["detail"]

    status, body = _health_of({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}",
                               "JOBS_IMMEDIATE": True})
    assert (status, body["down"]) == (503, ["database"])


def test_requests_and_jobs_log_one_line_each_with_the_user_and_the_duration_and_no_student_data(
        client: FlaskClient, login_as, caplog) -> None:  # type: ignore[no-untyped-def]
    world = _world_with_scores()
    admin = make_user("admin")
    login_as(admin)
    with caplog.at_level(logging.INFO, logger="gradebook.events"):
        client.get(f"/sections/{world.section.id}?student={world.students[0].id}")
        client.post("/admin/policy", data={**POLICY, "apply": "1"})
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "gradebook.events"]
    requests = [line for line in lines if line["event"] == "request"]
    job = next(line for line in lines if line["event"] == "job")
    grid = next(line for line in requests if line["method"] == "GET")
    assert (grid["route"], grid["user"]) == ("/sections/<int:section_id>", admin.id)
    assert all(isinstance(line["ms"], int | float) for line in [*requests, job])
    assert (job["kind"], job["status"], job["user"]) == ("recompute", "done", admin.id)
    text = caplog.text
    for student in world.students:
        assert student.name not in text and student.email not in text
    assert f"student={world.students[0].id}" not in text


# ---------------------------------------------------------------- claims and leases


def _running_job(app: Flask, worker: str = "another-host:4242", attempts: int = 1) -> Job:
    from datetime import timedelta

    from gradebook.interop import school_jobs
    from gradebook.models import utcnow

    job = school_jobs.create(db.session, kind="recompute", actor=make_user("admin"))
    job.status, job.attempts, job.worker = "running", attempts, worker
    job.started_at = utcnow() - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 5)
    db.session.commit()
    return job


def test_a_worker_that_still_beats_keeps_its_job_and_one_silent_past_the_lease_loses_it(
        app: Flask, queued: list[int]) -> None:
    import time

    job = _running_job(app)
    lease = app.config["JOB_LEASE_SECONDS"]
    queue._write_live(app, job.id, queue.Live(40, "Section 2 of 5", time.time(), job.worker, job.attempts))
    assert (queue.check(db.session, app, job), queue.progress_of(app, job)) == (False, (40, "Section 2 of 5"))

    queue._write_live(app, job.id, queue.Live(40, "Section 2 of 5", time.time() - lease - 1, job.worker, 1))
    assert queue.check(db.session, app, job)
    assert (job.status, queued, "stopped (attempt 1 of 2)" in job.message) == ("queued", [job.id], True)
    assert queue.read_live(app, job.id) is None


def test_a_second_message_for_a_job_already_taken_does_nothing(app: Flask) -> None:
    job = _running_job(app, worker="elsewhere:1")
    queue.run(app, job.id)
    db.session.rollback()
    assert (db.session.get(Job, job.id).status, db.session.get(Job, job.id).worker) == ("running", "elsewhere:1")


def test_a_run_that_lost_its_claim_keeps_none_of_its_work(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A worker thought dead (its job given to another) that finishes after all: its writes are rolled back."""
    from sqlalchemy import update

    from gradebook.interop import school_jobs

    world = _world_with_scores()
    school = db.session.scalar(select(School))
    school.default_policy = {**school.default_policy, **{"method": "average"}}
    db.session.commit()
    before = _score(world)
    real = school_jobs.run_recompute

    def overtaken(session, app_, job, progress):  # type: ignore[no-untyped-def]
        result = real(session, app_, job, progress)
        session.execute(update(Job).where(Job.id == job.id).values(worker="the-new-owner:7"))  # as if re-claimed
        return result

    monkeypatch.setitem(queue._bodies, "recompute", overtaken)
    job = school_jobs.create(db.session, kind="recompute", actor=make_user("admin"))
    db.session.commit()
    queue.run(app, job.id)
    db.session.rollback()
    assert (_score(world), db.session.get(Job, job.id).status) == (before, "running")
