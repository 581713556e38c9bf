"""Family pages read at US grade 6 or below in English and at Fernández-Huerta 70 or above in Spanish,
measured over the demo school (tests/readability.py says how)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import Enrollment, GuardianLink, SectionStandard, User
from tests.readability import fernandez_huerta, grade

MAX_GRADE = 6.0
MIN_EASE = 70.0


def family_pages(client, guardian: User) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every family page of the guardian's first child: home, child, conference, each "why", the record."""
    client.post("/logout")
    client.get("/login")  # shows (and so empties) the logged-out message, said in the previous reader's language
    response = client.post("/login", data={"email": guardian.email, "password": DEMO_PASSWORD})
    assert response.status_code == 303
    child = db.session.scalar(select(User).join(GuardianLink, GuardianLink.student_id == User.id)
                              .where(GuardianLink.guardian_id == guardian.id).order_by(User.id))
    pages = {"home": "/family", "child": f"/family/children/{child.id}",
             "conference": f"/students/{child.id}/conference", "record": f"/students/{child.id}/record.html",
             "term report": f"/students/{child.id}/term-report"}
    for section_id, competency_id in db.session.execute(
            select(SectionStandard.section_id, SectionStandard.competency_id)
            .join(Enrollment, Enrollment.section_id == SectionStandard.section_id)
            .where(Enrollment.student_id == child.id).order_by(SectionStandard.section_id, SectionStandard.position)):
        pages[f"why {section_id}/{competency_id}"] = \
            f"/family/children/{child.id}/sections/{section_id}/standards/{competency_id}"
    html = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html[name] = response.get_data(as_text=True)
    return html


@pytest.fixture
def demo(app):  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()


def _measure(pages: dict[str, str], measure) -> dict[str, float]:  # type: ignore[no-untyped-def]
    scores = {name: round(measure(html), 1) for name, html in pages.items() if not name.startswith("why ")}
    whys = [measure(html) for name, html in pages.items() if name.startswith("why ")]
    scores["why (hardest)"] = round(max(whys) if measure is grade else min(whys), 1)
    return scores


def test_family_pages_read_at_grade_six_or_below_in_english(client, demo) -> None:
    guardian = db.session.scalar(select(User).where(User.email == "sarah.johnson0@family.riverside.example"))
    scores = _measure(family_pages(client, guardian), grade)
    print("Flesch-Kincaid grade:", scores)
    assert {name: score for name, score in scores.items() if score > MAX_GRADE} == {}


def test_family_pages_read_easily_in_spanish(client, demo) -> None:
    guardian = db.session.scalar(select(User).where(User.role == "guardian", User.language == "es"))
    scores = _measure(family_pages(client, guardian), fernandez_huerta)
    print("Fernández-Huerta:", scores)
    assert {name: score for name, score in scores.items() if score < MIN_EASE} == {}
