"""The comment bank grows as the teacher writes feedback, and is offered again with the next steps."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import CommentBankEntry, Evidence, SectionTeacher
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import make_assessment, make_section, make_user


def test_feedback_joins_the_bank_and_is_offered_on_the_next_assessment(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    first = make_assessment(world, standards=world.standards, title="First")
    record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                    competency_id=world.standards[0].id, value=CellValue("scored", 2.0),
                    observed_on=first.assessed_on, assessment=first)
    db.session.commit()
    login_as(world.teacher)
    client.post(f"/sections/{world.section.id}/assessments/{first.id}/feedback/{world.students[0].id}",
                data={f"feedback-{world.students[0].id}": "Label your axes before you plot."})
    second = make_assessment(world, standards=world.standards, title="Second")
    page = client.get(f"/sections/{world.section.id}/assessments/{second.id}").get_data(as_text=True)
    assert "<li data-kind=\"bank\">Label your axes before you plot.</li>" in page


def test_the_entry_page_offers_each_standards_next_step(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    assessment = make_assessment(world, standards=world.standards)
    login_as(world.teacher)
    page = client.get(f"/sections/{world.section.id}/assessments/{assessment.id}").get_data(as_text=True)
    assert "Next step: Level 3 on skill 1." in page


def _bank(page: str) -> list[str]:
    import html
    import re

    template = re.search(r'<template id="comment-bank">(.*?)</template>', page, re.S)
    assert template, "the entry sheet carries the bank its pickers offer"
    return [html.unescape(text) for text in re.findall(r'<li data-kind="bank">(.*?)</li>', template.group(1))]


def _feedback(world, teacher, standard, student, text: str) -> None:  # type: ignore[no-untyped-def]
    evidence = record_evidence(db.session, teacher, section=world.section, student_id=student.id,
                               competency_id=standard.id, value=CellValue("scored", 3.0),
                               observed_on=date(2026, 9, 1), feedback=text)
    db.session.commit()
    return evidence


def test_the_bank_is_seeded_from_the_teachers_past_feedback_on_those_standards_most_used_first(
        client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=2)
    on_this, on_another = world.standards
    for student in world.students:  # written three times on this standard, from the cell detail
        _feedback(world, world.teacher, on_this, student, "Show each step of your working.")
    _feedback(world, world.teacher, on_this, world.students[0], "Check your units.")
    _feedback(world, world.teacher, on_another, world.students[1], "Only for the other standard.")
    colleague = make_user("teacher")
    db.session.add(SectionTeacher(section_id=world.section.id, teacher_id=colleague.id))
    db.session.commit()
    _feedback(world, colleague, on_this, world.students[2], "A colleague's words.")
    assessment = make_assessment(world, standards=[on_this])
    login_as(world.teacher)
    page = client.get(f"/sections/{world.section.id}/assessments/{assessment.id}").get_data(as_text=True)
    assert _bank(page) == ["Show each step of your working.", "Check your units."]


def test_save_to_bank_keeps_a_comment_for_the_assessments_standards(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=2)
    assessment = make_assessment(world, standards=world.standards)
    student = world.students[0]
    login_as(world.teacher)
    url = f"/sections/{world.section.id}/comment-bank?assessment={assessment.id}"
    saved = client.post(url, data={"bank_field": f"feedback-{student.id}", f"feedback-{student.id}": " Great reasoning. "},
                        headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Saved to your comment bank." in saved.get_data(as_text=True)
    again = client.post(url, data={"body": "Great reasoning."}, headers={"HX-Request": "true"})
    assert "Already in your comment bank." in again.get_data(as_text=True)
    stored = db.session.scalars(select(CommentBankEntry.competency_id).where(
        CommentBankEntry.body == "Great reasoning.")).all()
    assert sorted(stored) == sorted(s.id for s in world.standards)
    later = make_assessment(world, standards=[world.standards[1]], title="Later")
    page = client.get(f"/sections/{world.section.id}/assessments/{later.id}").get_data(as_text=True)
    assert _bank(page) == ["Great reasoning."]
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0  # the bank is not feedback


@pytest.mark.parametrize(("query", "data", "message"), [
    ("assessment={a}", {"body": "   "}, "Type the comment first"),
    ("assessment={a}", {"body": "x" * 1001}, "at most 1000 characters"),
    ("standard=999999", {"body": "Fine."}, "not one of this section's standards"),
    ("", {"body": "Fine."}, "not one of this section's standards"),
])
def test_save_to_bank_refuses_what_it_cannot_keep(client: FlaskClient, login_as, query: str, data: dict[str, str],  # type: ignore[no-untyped-def]
                                                   message: str) -> None:
    world = make_section(students=1, standards=1)
    assessment = make_assessment(world, standards=world.standards)
    login_as(world.teacher)
    refused = client.post(f"/sections/{world.section.id}/comment-bank?" + query.format(a=assessment.id), data=data,
                          headers={"HX-Request": "true"})
    assert refused.status_code == 422 and message in refused.get_data(as_text=True).replace("&#39;", "'")
    assert db.session.scalar(select(func.count()).select_from(CommentBankEntry)) == 0


def test_the_feedback_box_is_an_aria_combobox_over_a_listbox(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    assessment = make_assessment(world, standards=world.standards)
    login_as(world.teacher)
    page = client.get(f"/sections/{world.section.id}/assessments/{assessment.id}").get_data(as_text=True)
    sid = world.students[0].id
    assert f'role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="bank-list-{sid}"' in page
    assert f'<ul class="bank-list" role="listbox" id="bank-list-{sid}"' in page and "<datalist" not in page


def test_the_cell_detail_offers_the_bank_for_its_standard_and_saves_to_it(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=2)
    student, standard = world.students[0], world.standards[0]
    _feedback(world, world.teacher, standard, student, "Compare the two ratios first.")
    login_as(world.teacher)
    page = client.get(f"/sections/{world.section.id}/students/{student.id}/standards/{standard.id}").get_data(as_text=True)
    assert f'<template id="bank-{standard.id}"><li data-kind="bank">Compare the two ratios first.</li></template>' in page
    assert 'role="combobox"' in page and 'data-bank-fill="feedback"' in page
    saved = client.post(f"/sections/{world.section.id}/comment-bank?standard={standard.id}",
                        data={"bank_field": "feedback", "feedback": "Draw a table."}, headers={"HX-Request": "true"})
    assert saved.status_code == 200
    assert db.session.scalar(select(CommentBankEntry.competency_id).where(CommentBankEntry.body == "Draw a table.")) \
        == standard.id
