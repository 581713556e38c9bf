"""Habits of work in a real browser: the teacher records habits with the keyboard on the entry sheet and in
the grid's panel, in their own columns; the family's child page shows them apart from the skills, in English
and in Spanish."""

from __future__ import annotations

import re

from gradebook.extensions import db
from tests.builders import PASSWORD, make_assessment, make_habits, make_section
from tests.e2e.conftest import log_in, screenshot


def test_a_teacher_records_habits_and_the_family_sees_them_apart_from_skills(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=2, guardians=True)
    habits = make_habits(world)
    quiz = make_assessment(world, standards=world.standards, title="Forces lab")
    section_id, quiz_id = world.section.id, quiz.id
    names = [s.name for s in world.students]
    child_id, child_first = world.students[0].id, world.students[0].first_name
    guardian_email = world.guardians[0].email
    world.guardians[1].language = "es"  # the second child's family reads the pages in Spanish
    spanish_email, second_id, second_first = world.guardians[1].email, world.students[1].id, world.students[1].first_name
    last_code = world.standards[-1].code
    habit_ids = [h.id for h in habits]
    db.session.commit()

    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    page.goto(f"/sections/{section_id}/assessments/{quiz_id}")
    # Keyboard only: from the last standard's cell, → into the first habit column, then down it with Enter.
    page.get_by_label(f"{names[0]}, {last_code}").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.name") == f"habit-{child_id}-{habit_ids[0]}"
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    page.keyboard.type("L")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('td.habit-cell .cell-state.saved').length === 2"
                           " && document.querySelectorAll('.htmx-request').length === 0")
    first = page.locator(f"#habit-{child_id}-{habit_ids[0]}")
    assert "Consistently" in first.inner_text()
    assert page.locator("th.habit-head").inner_text().strip() == "Habits of work"
    screenshot(page, "habits-entry-sheet")

    # The grid: habits in their own columns after the standards; a habit cell opens its panel to record one.
    page.goto(f"/sections/{section_id}")
    page.locator(f"a[href$='/students/{child_id}/habits/{habit_ids[1]}']").click()
    panel = page.locator("#panel")
    panel.get_by_label("Level or mark").select_option("3")
    panel.get_by_role("button", name="Record").click()
    panel.get_by_text("Habit recorded.").wait_for()
    # The grid behind refreshes on the response's event (a request of its own, which may start a little later).
    cell = f"a[href$='/students/{child_id}/habits/{habit_ids[1]}']"
    page.wait_for_function("s => (document.querySelector(s) || {}).innerText?.includes('U')", arg=cell)
    assert "U" in page.locator(cell).inner_text()
    screenshot(page, "habits-grid")
    assert page.js_errors == []

    page.context.clear_cookies()
    log_in(page, guardian_email, PASSWORD)
    page.goto(f"/family/children/{child_id}")
    apart = page.locator("#habits")
    assert apart.locator("h2").inner_text() == f"How {child_first} works · Work habits"
    text = apart.inner_text()
    assert "Responsibility" in text and "Consistently" in text and "Persistence" in text and "Usually" in text
    assert "They do not change any skill level." in text
    skills = page.locator("#going-well, #working-on").all_inner_texts()
    assert not any("Responsibility" in part for part in skills)  # not among the skills
    screenshot(page, "habits-family-child")

    page.context.clear_cookies()
    log_in(page, spanish_email, PASSWORD)
    page.goto(f"/family/children/{second_id}")
    assert page.locator("#habits h2").inner_text() == f"Cómo trabaja {second_first} · Hábitos de trabajo"
    assert "No cambia el nivel de ninguna destreza." in page.locator("#habits").inner_text()
    assert "1 trabajo entregado tarde" in page.locator("#habits").inner_text()
    screenshot(page, "habits-family-child-es")
