"""The conference page of a demo student prints on one A4 page, with every part a conference needs."""

from __future__ import annotations

import re

from gradebook.demo import seed_demo
from gradebook.extensions import db
from tests.e2e.conftest import ARTIFACTS, log_in, screenshot

GUARDIAN = "sarah.johnson0@family.riverside.example"
HEADINGS = ["About", "Skills", "Work to talk about", "Goals", "From the teachers", "Questions you may want to ask"]


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def open_first_childs_conference(page) -> None:  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()
    log_in(page, GUARDIAN, "gradebook-demo")
    page.wait_for_url(re.compile("/family$"))
    page.get_by_role("link", name="Page for the teacher meeting").first.click()
    page.wait_for_url(re.compile(r"/students/\d+/conference$"))


def test_the_demo_students_conference_page_prints_on_one_a4_page(page) -> None:
    open_first_childs_conference(page)
    path = ARTIFACTS / "screens" / "conference.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi: a stand-in for a picture of the PDF
    screenshot(page, "conference")
    assert pdf_pages(data) == 1


def test_the_printed_conference_page_has_every_part_a_conference_needs(page) -> None:
    open_first_childs_conference(page)
    page.emulate_media(media="print")
    headings = page.locator(".conference-page h2").all_inner_texts()
    assert [h for h in HEADINGS if not any(text.startswith(h) for text in headings)] == []
    assert page.js_errors == []
