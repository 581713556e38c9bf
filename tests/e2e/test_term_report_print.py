"""The term report prints on one A4 sheet, in the family's language, for every child of the demo families and
for a teacher printing it for a Spanish-speaking family (issue 17, part 3)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import select

from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import Enrollment, GuardianLink, SectionTeacher, User
from tests.e2e.conftest import ARTIFACTS, log_in
from tests.e2e.test_conference import GUARDIAN, pdf_pages

SHOTS = os.environ.get("GRADEBOOK_SHOTS")


def _out() -> Path:
    out = Path(SHOTS) if SHOTS else ARTIFACTS / "screens"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _print(page, name: str) -> int:  # type: ignore[no-untyped-def]
    """The page as an A4 PDF (its number of sheets), kept with a screenshot of the print layout."""
    data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (_out() / f"{name}.pdf").write_bytes(data)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=str(_out() / f"{name}-print.png"), full_page=True)
    page.emulate_media(media="null")
    page.set_viewport_size({"width": 1280, "height": 860})
    return pdf_pages(data)


def test_each_childs_term_report_prints_on_one_sheet(page) -> None:  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()
    guardian = db.session.scalar(select(User).where(User.email == GUARDIAN))
    children = list(db.session.scalars(select(User).join(GuardianLink, GuardianLink.student_id == User.id)
                                       .where(GuardianLink.guardian_id == guardian.id).order_by(User.name)))
    log_in(page, GUARDIAN, DEMO_PASSWORD)
    page.wait_for_url(re.compile("/family$"))
    sheets = {}
    for child in children:
        page.goto(f"/family/children/{child.id}")
        page.get_by_role("link", name="Term report").first.click()
        page.wait_for_url(re.compile(rf"/students/{child.id}/term-report$"))
        assert page.get_by_role("heading", name=f"Term report for {child.name}").is_visible()
        assert page.locator("td.term-grade").count() >= 1
        sheets[child.first_name] = _print(page, f"term-report-{child.first_name.lower()}")
    assert sheets == {child.first_name: 1 for child in children}


def test_a_teacher_prints_a_spanish_speaking_familys_report_in_spanish_on_one_sheet(page) -> None:  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()
    guardian = db.session.scalar(select(User).where(User.role == "guardian", User.language == "es"))
    child_id = db.session.scalar(select(GuardianLink.student_id).where(GuardianLink.guardian_id == guardian.id)
                                 .order_by(GuardianLink.student_id))
    teacher = db.session.scalar(select(User).join(SectionTeacher, SectionTeacher.teacher_id == User.id)
                                .join(Enrollment, Enrollment.section_id == SectionTeacher.section_id)
                                .where(Enrollment.student_id == child_id).order_by(User.id))
    log_in(page, teacher.email, DEMO_PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(f"/students/{child_id}/term-report")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name=re.compile("^Informe del periodo de ")).is_visible()
    assert "La nota de" in page.locator("table.report-table").first.inner_text()
    assert _print(page, "term-report-spanish") == 1
