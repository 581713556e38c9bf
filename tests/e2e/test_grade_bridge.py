"""In a real browser: the admin changes the grade table, sees every student's grade under it before saving,
saves it, and the family page explains the new grade (issue 17, part 3)."""

from __future__ import annotations

import re

from sqlalchemy import select

from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import GradeBridgeTable, User
from tests.e2e.conftest import ARTIFACTS, log_in

ADMIN = "admin@riverside.example"
GUARDIAN = "sarah.johnson0@family.riverside.example"
STUDENT = "maya.johnson@students.riverside.example"


def test_the_admin_previews_every_grade_saves_and_the_family_sees_why(page, browser) -> None:  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()
    out = ARTIFACTS / "screens"
    out.mkdir(parents=True, exist_ok=True)
    log_in(page, ADMIN, DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/admin/?$"))
    page.get_by_role("link", name="Grade table").click()
    page.wait_for_url(re.compile("/admin/grade-bridge$"))
    page.fill("#percent_3_1", "60")  # C: at least 60% at Meets (was 75%)
    page.get_by_role("button", name="Preview every student's grade").click()
    preview = page.locator(".preview")
    preview.wait_for()
    assert re.search(r"\d+ of \d+ grades would change\. Nothing is saved yet\.", preview.inner_text())
    preview.screenshot(path=str(out / "grade-bridge-preview.png"))
    assert db.session.scalar(select(GradeBridgeTable)).version == 1  # the demo's table, not yet changed
    page.get_by_role("button", name="Save and publish this table").click()
    page.wait_for_url(re.compile("/admin/grade-bridge$"))
    assert "The grade table is published." in page.locator(".flashes").inner_text()
    assert "C: at least 60% of the skills at Meets or above." in page.locator("main").inner_text()
    db.session.rollback()  # end the test's reading transaction: see what the app committed
    assert db.session.scalar(select(GradeBridgeTable)).version == 2

    family = browser.new_context(base_url=page.url.split("/admin")[0]).new_page()
    log_in(family, GUARDIAN, DEMO_PASSWORD)
    family.wait_for_url(re.compile("/family$"))
    maya = db.session.scalar(select(User.id).where(User.email == STUDENT))
    family.goto(f"/family/children/{maya}")
    card = family.locator("#term-grades")
    assert "Maya's grade is" in card.inner_text()
    card.screenshot(path=str(out / "grade-bridge-family-card.png"))
    family.get_by_role("link", name="See the term report").click()
    family.wait_for_url(re.compile(rf"/students/{maya}/term-report$"))
    assert "C: at least 60% of the skills at Meets or above." in family.locator("main").inner_text()
