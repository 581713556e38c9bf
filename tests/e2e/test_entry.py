"""Entering scores in a real browser: create an assessment, type a class's scores with the keyboard only,
and see them kept and turned into proficiency on the grid."""

from __future__ import annotations

import re
from datetime import date

from gradebook.extensions import db
from gradebook.services.evidence import CellValue, record_evidence
from tests.builders import PASSWORD, SectionWorld, make_assessment, make_section
from tests.e2e.conftest import log_in, screenshot

LEVELS = {"1": "Beginning", "2": "Approaching", "3": "Meets", "4": "Exceeds"}
LAPTOP = {"width": 1366, "height": 850}
PHONE = {"width": 390, "height": 844}


def _planned(row: int, column: int) -> str:
    """What the teacher types for student `row` on standard `column`: scores, one missing, one excused."""
    if (row, column) == (4, 0):
        return "M"
    if (row, column) == (9, 1):
        return "E"
    return str(1 + (row + column) % 4)


def _log_in_as_teacher(page, world: SectionWorld) -> None:  # type: ignore[no-untyped-def]
    log_in(page, world.teacher.email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))


def _wait_until_every_cell_is_saved(page, cells: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "n => document.querySelectorAll('td.entry-cell .cell-state.saved').length === n"
        " && document.querySelectorAll('.htmx-request').length === 0", arg=cells)


def test_a_teacher_creates_an_assessment_and_types_a_class_of_scores_with_the_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=30, standards=3)
    section_id, teacher_email = world.section.id, world.teacher.email
    names = [s.name for s in world.students]
    codes = [s.code for s in world.standards]
    labels = [f"{s.code} {s.short_name}" for s in world.standards]
    db.session.commit()
    log_in(page, teacher_email, PASSWORD)
    page.wait_for_url(re.compile("/sections$"))
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/cells/" in r.url else None)

    page.goto(f"/sections/{section_id}/assessments/new")
    page.get_by_label("Title").fill("Forces and motion quiz")
    for label in labels:
        page.get_by_label(label).check()
    page.get_by_role("button", name="Create and enter scores").click()
    page.wait_for_url(re.compile(rf"/sections/{section_id}/assessments/\d+$"))
    entry_url = page.url

    # Keyboard only, in a snake: down the first standard with Enter, across with →, up the second with ↑,
    # across with Tab, down the third with Enter.
    page.get_by_label(f"{names[0]}, {codes[0]}").focus()
    for row in range(30):
        page.keyboard.type(_planned(row, 0))
        page.keyboard.press("Enter")
    # Enter on the last row saves that cell where it is; the teacher waits to see it saved, then moves on.
    page.locator("td.entry-cell", has=page.get_by_label(f"{names[29]}, {codes[0]}")).locator(
        ".cell-state.saved").wait_for()
    page.keyboard.press("ArrowRight")
    for row in reversed(range(30)):
        page.keyboard.type(_planned(row, 1))
        page.keyboard.press("ArrowUp" if row else "Tab")
    for row in range(30):
        page.keyboard.type(_planned(row, 2))
        page.keyboard.press("Enter")
    _wait_until_every_cell_is_saved(page, 90)
    assert (set(statuses), len(statuses), page.js_errors) == ({200}, 90, [])

    page.goto(entry_url)
    shown = {(row, column): page.get_by_label(f"{names[row]}, {codes[column]}").input_value()
             for row in range(30) for column in range(3)}
    assert shown == {(row, column): _planned(row, column) for row in range(30) for column in range(3)}

    page.goto(f"/sections/{section_id}")
    titles = page.locator("#grid td.cell a").evaluate_all("links => links.map(a => a.title)")
    expected = []
    for row in range(30):
        for column in range(3):
            typed = _planned(row, column)
            prefix = f"{names[row]} · {codes[column]}: "
            expected.append(prefix + (f"{LEVELS[typed]} ({int(typed)}.00)" if typed in LEVELS
                                      else "no evidence yet" + ("; 1 missing" if typed == "M" else "")))
    assert titles == expected


def test_enter_on_the_last_row_saves_once_even_if_the_teacher_moves_on_at_once(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=2)
    assessment = make_assessment(world, standards=world.standards)
    entry_url = f"/sections/{world.section.id}/assessments/{assessment.id}"
    first, second = (f"{world.students[0].name}, {s.code}" for s in world.standards)
    db.session.commit()
    _log_in_as_teacher(page, world)
    page.goto(entry_url)
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/cells/" in r.url else None)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if "/cells/" in r.url and r.method == "POST" else None)
    slow: list = []  # the first save reaches the server, but its answer is slow to come back

    def _slow_answer_to_the_first_save(route) -> None:  # type: ignore[no-untyped-def]
        if slow:
            route.continue_()
        else:
            slow.append((route, route.fetch()))

    page.route("**/cells/**", _slow_answer_to_the_first_save)
    page.get_by_label(first).focus()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    while not slow:
        page.wait_for_timeout(20)
    page.keyboard.press("ArrowRight")
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    route, answer = slow[0]
    route.fulfill(response=answer)
    _wait_until_every_cell_is_saved(page, 2)
    page.wait_for_timeout(300)
    assert (len(posts), sorted(statuses)) == (2, [200, 200])


def test_an_htmx_cell_save_carries_the_csrf_token(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    assessment = make_assessment(world, standards=world.standards)
    entry_url = f"/sections/{world.section.id}/assessments/{assessment.id}"
    cell_label = f"{world.students[0].name}, {world.standards[0].code}"
    db.session.commit()
    _log_in_as_teacher(page, world)
    page.goto(entry_url)
    page.get_by_label(cell_label).focus()
    with page.expect_response(lambda r: "/cells/" in r.url and r.request.method == "POST") as saved:
        page.keyboard.type("3")
        page.keyboard.press("Enter")
    response = saved.value
    assert (response.status, bool(response.request.header_value("X-CSRFToken"))) == (200, True)


def test_screens_of_the_grid_and_entry_sheet_on_a_laptop_and_a_phone(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=24, standards=8)
    assessment = make_assessment(world, standards=world.standards[:3], title="Forces and motion quiz",
                                 on=date(2026, 10, 5))
    for row, student in enumerate(world.students):
        for column, standard in enumerate(world.standards[:3]):
            typed = _planned(row, column)
            value = CellValue("scored", float(typed)) if typed.isdigit() else \
                CellValue({"M": "missing", "E": "excused"}[typed], None)
            record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                            competency_id=standard.id, value=value, observed_on=assessment.assessed_on,
                            assessment=assessment)
    grid_url = f"/sections/{world.section.id}"
    entry_url = f"{grid_url}/assessments/{assessment.id}"
    db.session.commit()
    _log_in_as_teacher(page, world)
    for device, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(grid_url)
        screenshot(page, f"grid-{device}")
        page.goto(entry_url)
        screenshot(page, f"entry-{device}")
    assert page.js_errors == []


def test_clicking_a_grid_cell_opens_its_evidence_beside_the_grid_and_student_names_still_navigate(page) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=2)
    student, standard = world.students[1], world.standards[1]
    record_evidence(db.session, world.teacher, section=world.section, student_id=student.id,
                    competency_id=standard.id, value=CellValue("scored", 3.0), observed_on=date(2026, 10, 5),
                    feedback="Clear diagram of the forces.")
    grid_url = f"/sections/{world.section.id}"
    db.session.commit()
    _log_in_as_teacher(page, world)
    page.goto(grid_url)
    page.locator("#grid td.cell a").nth(1 * 2 + 1).click()  # second student, second standard
    page.locator("#panel p.feedback", has_text="Clear diagram of the forces.").wait_for()
    assert page.locator("#panel h2").inner_text() == student.name
    assert page.url.endswith(grid_url)  # the grid stays where it was
    page.get_by_role("link", name=world.students[0].name).click()
    page.wait_for_url(re.compile(rf"{grid_url}/students/{world.students[0].id}$"))
    assert page.js_errors == []
