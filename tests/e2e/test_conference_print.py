"""Every conference page of the demo family prints on one A4 sheet: no line spills onto a second page, even for
the child with two classes and the longest story."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import select

from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import GuardianLink, User
from tests.e2e.conftest import ARTIFACTS, log_in
from tests.e2e.test_conference import GUARDIAN, pdf_pages

SHOTS = os.environ.get("GRADEBOOK_SHOTS")


def test_each_childs_conference_page_prints_on_one_sheet(page) -> None:  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()
    guardian = db.session.scalar(select(User).where(User.email == GUARDIAN))
    children = list(db.session.scalars(select(User).join(GuardianLink, GuardianLink.student_id == User.id)
                                       .where(GuardianLink.guardian_id == guardian.id).order_by(User.name)))
    assert len(children) == 2
    log_in(page, GUARDIAN, DEMO_PASSWORD)
    page.wait_for_url(re.compile("/family$"))
    pages = {}
    for child in children:
        page.goto(f"/students/{child.id}/conference")
        data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        pages[child.first_name] = pdf_pages(data)
        out = Path(SHOTS) if SHOTS else ARTIFACTS / "screens"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"conference-{child.first_name.lower()}.pdf").write_bytes(data)
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 794, "height": 1123})
        page.screenshot(path=str(out / f"conference-{child.first_name.lower()}-print.png"), full_page=True)
        page.emulate_media(media="null")  # back to no emulation: pdf() prints with print CSS again
        page.set_viewport_size({"width": 1280, "height": 860})
    assert pages == {child.first_name: 1 for child in children}
