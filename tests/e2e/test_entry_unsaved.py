"""A save that fails on the entry sheet is never silent and never loses what was typed: the cell says it is
not saved and keeps the value, Retry saves it once the network or the server is back, and the page warns
before it is left with an unsaved cell."""

from __future__ import annotations

import re

from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import Evidence
from tests.builders import PASSWORD, make_assessment, make_section
from tests.e2e.conftest import log_in

CELLS = "**/cells/**"


def _entry_sheet(page, students: int = 2):  # type: ignore[no-untyped-def]
    world = make_section(students=students, standards=1)
    assessment = make_assessment(world, standards=world.standards)
    entry_url = f"/sections/{world.section.id}/assessments/{assessment.id}"
    labels = [f"{s.name}, {world.standards[0].code}" for s in world.students]
    db.session.commit()
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(entry_url)
    return world, labels


def _type(page, label: str, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label(label, exact=True).focus()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _cell(page, label: str):  # type: ignore[no-untyped-def]
    return page.locator("td.entry-cell", has=page.get_by_label(label, exact=True))


def _saved_scores() -> list[float | None]:
    db.session.rollback()  # see what the live server committed
    return [e.score for e in db.session.scalars(select(Evidence).where(Evidence.deleted_at.is_(None)))]


def test_with_the_network_down_a_cell_says_not_saved_keeps_the_value_and_enter_retries(page) -> None:  # type: ignore[no-untyped-def]
    _world, (first, _second) = _entry_sheet(page)
    page.route(CELLS, lambda route: route.abort("internetdisconnected"))
    _type(page, first, "3")
    cell = _cell(page, first)
    cell.locator(".cell-error", has_text="Not saved: the connection failed").wait_for()
    assert page.get_by_label(first, exact=True).input_value() == "3"
    assert cell.get_attribute("data-state") == "failed"
    assert _saved_scores() == []

    page.unroute(CELLS)  # the network is back: Enter in the cell tries again (as the Retry button does)
    page.get_by_label(first, exact=True).focus()
    page.keyboard.press("Enter")
    cell.locator(".cell-state.saved").wait_for()
    assert cell.locator(".cell-error").count() == 0
    assert page.get_by_label(first, exact=True).input_value() == "3"
    assert _saved_scores() == [3.0]
    assert page.js_errors == []


def test_when_the_server_fails_the_error_page_is_not_swapped_over_the_cell(page) -> None:  # type: ignore[no-untyped-def]
    _world, (first, _second) = _entry_sheet(page)
    page.route(CELLS, lambda route: route.fulfill(status=500, content_type="text/html",
                                                  body="<h1>Something went wrong on our side</h1>"))
    _type(page, first, "2.5")
    cell = _cell(page, first)
    cell.locator(".cell-error", has_text="the server had a problem (error 500)").wait_for()
    assert page.get_by_label(first, exact=True).input_value() == "2.5"
    assert page.locator("h1", has_text="Something went wrong").count() == 0

    page.unroute(CELLS)
    cell.get_by_role("button", name=re.compile("Retry")).click()
    cell.locator(".cell-state.saved").wait_for()
    assert _saved_scores() == [2.5]


def test_leaving_the_page_with_an_unsaved_cell_asks_first(page) -> None:  # type: ignore[no-untyped-def]
    world, (first, _second) = _entry_sheet(page)
    page.route(CELLS, lambda route: route.abort("internetdisconnected"))
    _type(page, first, "4")
    _cell(page, first).locator(".cell-error").wait_for()
    dialogs: list[str] = []

    def _stay(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", _stay)
    entry_url = page.url
    page.get_by_role("link", name="Grid").first.click()
    for _ in range(250):  # the dialog event arrives while Playwright runs: poll for it, at most 5 s
        if dialogs:
            break
        page.wait_for_timeout(20)
    assert dialogs == ["beforeunload"]
    assert page.url == entry_url
    assert page.get_by_label(first, exact=True).input_value() == "4"  # still there to retry

    # Once everything is saved, leaving asks nothing.
    page.unroute(CELLS)
    _cell(page, first).get_by_role("button", name=re.compile("Retry")).click()
    _cell(page, first).locator(".cell-state.saved").wait_for()
    page.get_by_role("link", name="Grid").first.click()
    page.wait_for_url(re.compile(rf"/sections/{world.section.id}$"))
    assert dialogs == ["beforeunload"]


def test_a_feedback_box_that_cannot_save_says_so_and_retry_saves_it(page) -> None:  # type: ignore[no-untyped-def]
    world, (first, _second) = _entry_sheet(page)
    _type(page, first, "3")
    _cell(page, first).locator(".cell-state.saved").wait_for()
    page.route("**/feedback/**", lambda route: route.abort("internetdisconnected"))
    feedback = page.get_by_label(f"Feedback for {world.students[0].name}", exact=True)
    feedback.fill("Show the forces on the diagram.")
    feedback.press("Tab")
    status = page.locator("td.comment-cell .feedback-status").first
    status.get_by_text("Not saved: the connection failed").wait_for()
    assert feedback.input_value() == "Show the forces on the diagram."

    page.unroute("**/feedback/**")
    status.get_by_role("button", name=re.compile("Retry")).click()
    page.locator("td.comment-cell .feedback-status.saved").first.wait_for()
    db.session.rollback()
    assert [e.feedback for e in db.session.scalars(select(Evidence))] == ["Show the forces on the diagram."]
    page.get_by_role("link", name="Grid").first.click()  # everything is saved: leaving asks nothing
    page.wait_for_url(re.compile(rf"/sections/{world.section.id}$"))
