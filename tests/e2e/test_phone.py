"""On a phone (390 × 844 CSS px): the student home and the child page show feedback and next steps within the
first two screens (long sections collapse), every tap target is at least 24 × 24 CSS px, and the conference
table fits the screen (its trend column is not cut off)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import User
from tests.e2e.conftest import log_in, screenshot

PHONE = {"width": 390, "height": 844}
STUDENT = "maya.johnson@students.riverside.example"
GUARDIAN = "sarah.johnson0@family.riverside.example"
SHOTS = os.environ.get("GRADEBOOK_SHOTS")  # a folder to also save the phone screenshots in, for people to look at


def on_phone(page):  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()
    page.set_viewport_size(PHONE)
    return db.session.scalar(select(User.id).where(User.email == STUDENT))


def save(page, name: str) -> None:  # type: ignore[no-untyped-def]
    screenshot(page, name)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-two-screens.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": PHONE["width"], "height": 2 * PHONE["height"]})


def top_of(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not on the page"
    return box["y"] + page.evaluate("window.scrollY")


_SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, label.check')).filter(el => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) return false;              // not shown (a closed section)
  if (el.closest('p, li, dd, td, small') && el.tagName === 'A' && !el.classList.contains('button')
      && getComputedStyle(el).display === 'inline') return false;  // a link inside a sentence (WCAG 2.5.8 exception)
  return r.width < 24 || r.height < 24;
}).map(el => `${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}" `
              + `${Math.round(el.getBoundingClientRect().width)}×${Math.round(el.getBoundingClientRect().height)}`)"""


@pytest.mark.parametrize("who", ["student", "guardian"])
def test_feedback_and_next_steps_come_within_two_screens_on_a_phone(page, who: str) -> None:  # type: ignore[no-untyped-def]
    maya = on_phone(page)
    if who == "student":
        log_in(page, STUDENT, DEMO_PASSWORD)
        page.wait_for_url(re.compile("/portfolio$"))
    else:
        log_in(page, GUARDIAN, DEMO_PASSWORD)
        page.wait_for_url(re.compile("/family$"))
        page.goto(f"/family/children/{maya}")
    save(page, f"phone-{who}")
    two_screens = 2 * PHONE["height"]
    assert top_of(page, "#feedback") < two_screens
    assert top_of(page, ".standard-next") < two_screens
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing runs off sideways


@pytest.mark.parametrize("who", ["student", "guardian"])
def test_every_tap_target_is_at_least_24_px_on_a_phone(page, who: str) -> None:  # type: ignore[no-untyped-def]
    maya = on_phone(page)
    urls = ["/portfolio"] if who == "student" else ["/family", f"/family/children/{maya}",
                                                    f"/students/{maya}/conference"]
    log_in(page, STUDENT if who == "student" else GUARDIAN, DEMO_PASSWORD)
    page.wait_for_url(re.compile("/(portfolio|family)$"))
    small = {}
    for url in urls:
        page.goto(url)
        found = page.evaluate(_SMALL_TARGETS)
        if found:
            small[url] = found
    assert small == {}


def test_the_conference_table_fits_a_phone(page) -> None:  # type: ignore[no-untyped-def]
    maya = on_phone(page)
    log_in(page, GUARDIAN, DEMO_PASSWORD)
    page.wait_for_url(re.compile("/family$"))
    page.goto(f"/students/{maya}/conference")
    save(page, "phone-conference")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    rights = page.evaluate("""() => Array.from(document.querySelectorAll('.conf-table tr > :last-child'))
        .map(cell => cell.getBoundingClientRect().right)""")
    assert rights and max(rights) <= PHONE["width"]
