"""The portfolio both ways: teachers' comments reach the student and family, entries can be changed, re-shared,
removed and brought back (audited), hold several files; files on a score are linked; the student's own record
holds everything; and the words say who sees what."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import Artifact, AuditEvent, Comment, FeedbackReply, LearnerProfile, PortfolioEntry
from gradebook.services.artifacts import Upload, store_upload
from tests.builders import SectionWorld, make_evidence, make_section

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app) -> SectionWorld:  # type: ignore[no-untyped-def]
    return make_section(students=1, standards=2, guardians=True)


@pytest.fixture
def student(world: SectionWorld):  # type: ignore[no-untyped-def]
    return world.students[0]


@pytest.fixture
def guardian(world: SectionWorld):  # type: ignore[no-untyped-def]
    return world.guardians[0]


def entry_of(student, title: str = "Volcano model", visibility: str = "family", featured: bool = False,
             reflection: str = "I learned how magma rises.") -> PortfolioEntry:  # type: ignore[no-untyped-def]
    entry = PortfolioEntry(student_id=student.id, title=title, reflection=reflection, visibility=visibility,
                           featured=featured)
    db.session.add(entry)
    db.session.commit()
    return entry


def teacher_comments(client: FlaskClient, login_as, world: SectionWorld, entry: PortfolioEntry, body: str) -> None:  # type: ignore[no-untyped-def]
    login_as(world.teacher)
    response = client.post(f"/sections/{world.section.id}/students/{entry.student_id}",
                           data={"action": "comment_entry", "subject_id": entry.id, "body": body})
    assert response.status_code == 303


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def edit_form(entry: PortfolioEntry, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {"title": entry.title, "reflection": entry.reflection, "visibility": entry.visibility,
                               "version": entry.version}
    if entry.featured:
        data["featured"] = "y"
    data.update(changes)
    return data


# ------------------------------------------------------------------ teachers' comments on entries

def test_a_teachers_comment_on_an_entry_reaches_the_student_and_the_family(client, login_as, world, student,
                                                                          guardian) -> None:
    entry = entry_of(student)
    teacher_comments(client, login_as, world, entry, "Your diagram of the vent is spot on.")
    login_as(student)
    assert "Your diagram of the vent is spot on." in page(client, "/portfolio")
    login_as(guardian)
    assert "Your diagram of the vent is spot on." in page(client, f"/family/children/{student.id}")


def test_a_comment_on_work_not_shared_with_the_family_stays_from_the_family(client, login_as, world, student,
                                                                           guardian) -> None:
    entry = entry_of(student, visibility="teachers")
    teacher_comments(client, login_as, world, entry, "Strong evidence for the rubric.")
    login_as(student)
    assert "Strong evidence for the rubric." in page(client, "/portfolio")
    login_as(guardian)
    assert "Strong evidence for the rubric." not in page(client, f"/family/children/{student.id}")


# ------------------------------------------------------------------ edit, re-share, remove, bring back

def test_a_student_edits_an_entry_and_the_change_is_audited(client, login_as, student) -> None:
    entry = entry_of(student)
    login_as(student)
    assert "Volcano model" in page(client, f"/portfolio/entries/{entry.id}/edit")
    response = client.post(f"/portfolio/entries/{entry.id}/edit",
                           data=edit_form(entry, title="Volcano model, version 2", reflection="Now with lava."))
    assert response.status_code == 303
    db.session.refresh(entry)
    assert (entry.title, entry.reflection) == ("Volcano model, version 2", "Now with lava.")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "portfolio.entry.update")).one()
    assert event.actor_id == student.id and event.student_id == student.id and event.target_id == entry.id
    assert event.detail["old"]["title"] == "Volcano model"
    assert event.detail["new"]["title"] == "Volcano model, version 2"


def test_a_wrong_share_with_family_can_be_taken_back(client, login_as, world, student, guardian) -> None:
    entry = entry_of(student, title="Private diary page")
    artifact = store_upload(db.session, Upload("page.png", io.BytesIO(PNG)), folder=client.application.config[
        "UPLOAD_FOLDER"], owner_student_id=student.id, uploaded_by=student, portfolio_entry_id=entry.id)
    db.session.commit()
    login_as(student)
    response = client.post(f"/portfolio/entries/{entry.id}/edit", data=edit_form(entry, visibility="private"))
    assert response.status_code == 303
    login_as(guardian)
    assert "Private diary page" not in page(client, f"/family/children/{student.id}")
    assert client.get(f"/artifacts/{artifact.id}").status_code == 404
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "portfolio.entry.visibility")).one()
    assert (event.detail["old"]["visibility"], event.detail["new"]["visibility"]) == ("family", "private")


def test_an_edit_from_a_stale_form_is_refused_and_keeps_what_was_typed(client, login_as, student) -> None:
    entry = entry_of(student)
    login_as(student)
    stale = edit_form(entry, title="From the old tab")
    client.post(f"/portfolio/entries/{entry.id}/edit", data=edit_form(entry, title="From the new tab"))
    response = client.post(f"/portfolio/entries/{entry.id}/edit", data=stale)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed since you opened it" in html and "From the old tab" in html
    db.session.refresh(entry)
    assert entry.title == "From the new tab"


def test_an_edit_without_a_title_is_refused_with_422_and_nothing_changes(client, login_as, student) -> None:
    entry = entry_of(student)
    login_as(student)
    response = client.post(f"/portfolio/entries/{entry.id}/edit", data=edit_form(entry, title="  "))
    assert response.status_code == 422
    assert "Give your work a title." in response.get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.title == "Volcano model"


def test_a_removed_entry_leaves_every_page_and_can_be_brought_back(client, login_as, world, student,
                                                                  guardian) -> None:
    entry = entry_of(student)
    login_as(student)
    response = client.post(f"/portfolio/entries/{entry.id}/remove", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "is removed from your portfolio" in html
    assert "Removed work (1)" in html  # and the way back
    login_as(guardian)
    assert "Volcano model" not in page(client, f"/family/children/{student.id}")
    login_as(world.teacher)
    assert "Volcano model" not in page(client, f"/sections/{world.section.id}/students/{student.id}")
    login_as(student)
    assert client.post(f"/portfolio/entries/{entry.id}/restore").status_code == 303
    login_as(guardian)
    assert "Volcano model" in page(client, f"/family/children/{student.id}")
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == entry.id,
                                                                      AuditEvent.target_type == "portfolio_entry")))
    assert actions == ["portfolio.entry.remove", "portfolio.entry.restore"]
    assert db.session.get(PortfolioEntry, entry.id) is not None  # soft: the row was never deleted


def test_another_student_cannot_edit_or_remove_an_entry(client, login_as, student) -> None:
    entry = entry_of(student)
    other = make_section(students=1).students[0]
    login_as(other)
    assert client.get(f"/portfolio/entries/{entry.id}/edit").status_code == 404
    assert client.post(f"/portfolio/entries/{entry.id}/remove").status_code == 404
    db.session.refresh(entry)
    assert entry.deleted_at is None


# ------------------------------------------------------------------ several files per entry

def test_one_entry_holds_an_image_and_a_pdf(client, login_as, student) -> None:
    login_as(student)
    response = client.post("/portfolio/entries/new", content_type="multipart/form-data", data={
        "title": "Bridge project", "visibility": "family",
        "file": [(io.BytesIO(PNG), "bridge.png"), (io.BytesIO(PDF), "report.pdf")]})
    assert response.status_code == 303
    entry = db.session.scalars(select(PortfolioEntry).where(PortfolioEntry.title == "Bridge project")).one()
    names = sorted(db.session.scalars(select(Artifact.original_name).where(Artifact.portfolio_entry_id == entry.id)))
    assert names == ["bridge.png", "report.pdf"]
    html = page(client, "/portfolio")
    assert "bridge.png" in html and "report.pdf" in html


def test_editing_adds_a_file_and_removes_another(client, login_as, student) -> None:
    entry = entry_of(student)
    first = store_upload(db.session, Upload("draft.png", io.BytesIO(PNG)), folder=client.application.config[
        "UPLOAD_FOLDER"], owner_student_id=student.id, uploaded_by=student, portfolio_entry_id=entry.id)
    db.session.commit()
    login_as(student)
    response = client.post(f"/portfolio/entries/{entry.id}/edit", content_type="multipart/form-data",
                           data={**edit_form(entry), "remove_file": str(first.id),
                                 "file": [(io.BytesIO(PDF), "final.pdf")]})
    assert response.status_code == 303
    live = list(db.session.scalars(select(Artifact.original_name).where(Artifact.portfolio_entry_id == entry.id,
                                                                        Artifact.deleted_at.is_(None))))
    assert live == ["final.pdf"]


# ------------------------------------------------------------------ files a teacher attaches to a score

def test_a_file_on_a_score_is_linked_from_the_student_and_family_pages(client, login_as, world, student,
                                                                       guardian) -> None:
    evidence = make_evidence(world, student, world.standards[0], 2, feedback="See the marked-up sheet.")
    artifact = store_upload(db.session, Upload("marked-up.png", io.BytesIO(PNG)), folder=client.application.config[
        "UPLOAD_FOLDER"], owner_student_id=student.id, uploaded_by=world.teacher, evidence_id=evidence.id)
    db.session.commit()
    link = f"/artifacts/{artifact.id}"
    login_as(student)
    assert link in page(client, "/portfolio")
    assert link in page(client, f"/portfolio/sections/{world.section.id}/standards/{world.standards[0].id}")
    login_as(guardian)
    assert link in page(client, f"/family/children/{student.id}")
    assert link in page(client, f"/family/children/{student.id}/sections/{world.section.id}/standards/"
                                f"{world.standards[0].id}")
    assert client.get(link).status_code == 200


# ------------------------------------------------------------------ the student's own record

def test_the_students_own_record_holds_private_work_comments_and_embedded_images(client, login_as, world, student,
                                                                                 guardian) -> None:
    private = entry_of(student, title="Just for me", visibility="private")
    teachers = entry_of(student, title="For my teacher", visibility="teachers")
    store_upload(db.session, Upload("sketch.png", io.BytesIO(PNG)), folder=client.application.config[
        "UPLOAD_FOLDER"], owner_student_id=student.id, uploaded_by=student, portfolio_entry_id=private.id)
    db.session.add(Comment(subject_type="entry", subject_id=teachers.id, author_id=world.teacher.id,
                           body="Lovely labelling."))
    db.session.commit()
    login_as(student)
    own = page(client, f"/students/{student.id}/record.html")
    assert "Just for me" in own and "For my teacher" in own and "Lovely labelling." in own
    assert "seen by only you" in own
    assert "data:image/png;base64," in own
    login_as(guardian)
    family = page(client, f"/students/{student.id}/record.html")
    assert "Just for me" not in family and "For my teacher" not in family


# ------------------------------------------------------------------ who sees what, in words

def test_a_private_entry_featured_for_the_conference_says_the_family_will_not_see_it(client, login_as,
                                                                                    student) -> None:
    entry_of(student, title="Secret poem", visibility="private", featured=True)
    login_as(student)
    html = page(client, "/portfolio")
    assert "Your family will not see this at the teacher meeting" in html
    assert "Your family sees work at the teacher meeting only when it is shared with them" in page(
        client, "/portfolio/entries/new")


def test_the_reply_box_says_the_family_sees_replies(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2, feedback="Check units.")
    login_as(student)
    html = page(client, f"/portfolio/sections/{world.section.id}/standards/{world.standards[0].id}")
    assert "Your teacher and your family can read your reply." in html


def test_the_teachers_notes_field_says_the_student_and_family_see_it(client, login_as, world, student) -> None:
    login_as(world.teacher)
    html = page(client, f"/sections/{world.section.id}/students/{student.id}")
    assert "The student and their family see these notes" in html


def test_one_piece_of_evidence_is_counted_once_on_the_student_home(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2)
    login_as(student)
    html = page(client, "/portfolio")
    assert "1 piece so far" not in html and "1 piece of work" in html


def test_the_scale_key_reads_as_a_sentence(client, login_as, student, guardian) -> None:
    login_as(guardian)
    html = page(client, f"/family/children/{student.id}")
    assert "the goal:</strong> Has mastered" not in html
    assert "(the goal)</strong> — Has got it" in html


def test_the_conference_question_quotes_a_skill_without_doubled_punctuation(client, login_as, world, student,
                                                                           guardian) -> None:
    make_evidence(world, student, world.standards[0], 2)
    login_as(guardian)
    html = page(client, f"/students/{student.id}/conference")
    assert "“Do skill 1 well”?" in html and ".”?" not in html


def test_the_conference_page_lists_skills_strengths_first(client, login_as, world, student, guardian) -> None:
    make_evidence(world, student, world.standards[0], 1)
    make_evidence(world, student, world.standards[1], 4)
    login_as(guardian)
    html = page(client, f"/students/{student.id}/conference")
    table = html[html.index("<h2>Skills"):]
    assert table.index("Do skill 2 well.") < table.index("Do skill 1 well.")


def test_teacher_notes_and_replies_are_still_shown_where_promised(client, login_as, world, student,
                                                                 guardian) -> None:
    evidence = make_evidence(world, student, world.standards[0], 2, feedback="Check units.",
                             on=date(2026, 10, 1))
    db.session.add(FeedbackReply(evidence_id=evidence.id, author_id=student.id, body="I will redo it."))
    db.session.add(LearnerProfile(student_id=student.id, teacher_notes="Loves building things."))
    db.session.commit()
    login_as(guardian)
    html = page(client, f"/family/children/{student.id}")
    assert "I will redo it." in html and "Loves building things." in html
