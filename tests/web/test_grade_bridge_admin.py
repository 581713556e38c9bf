"""The admin's grade table (issue 17, part 3): a preview of every student's grade before saving, nothing
written until saved, a stale save refused, bad rules named."""

from __future__ import annotations

from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import AuditEvent, GradeBridgeChange, GradeBridgeTable
from gradebook.proficiency.grade_bridge import DEFAULT_BRIDGE
from tests.builders import make_evidence, make_section, make_user


def table_form(bridge=DEFAULT_BRIDGE, version: int = 0, action: str = "preview", **changes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    form = {"version": str(version), "action": action, "otherwise": bridge.otherwise, "no_level": bridge.no_level}
    for row, rule in enumerate(bridge.rules, 1):
        form[f"grade_{row}"] = rule.grade
        for c, condition in enumerate(rule.conditions, 1):
            form[f"percent_{row}_{c}"] = str(condition.percent)
            form[f"points_{row}_{c}"] = str(condition.points)
    form.update(changes)
    return form


def a_class_with_grades():  # type: ignore[no-untyped-def]
    """Maya: 2 standards at Meets (B); Leo: one at Meets, one at Approaching (D)."""
    world = make_section(students=2, standards=2)
    maya, leo = world.students
    maya.name, leo.name = "Maya Lopez", "Leo Chen"
    for standard in world.standards:
        make_evidence(world, maya, standard, 3)
    make_evidence(world, leo, world.standards[0], 3)
    make_evidence(world, leo, world.standards[1], 2)
    db.session.commit()
    return world


def test_the_page_shows_the_published_table_in_plain_words(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1, standards=1)
    login_as(make_user("admin"))
    page = client.get("/admin/grade-bridge").get_data(as_text=True)
    assert "B: all skills at Meets or above." in page
    assert "I: any other case (not yet)." in page


def test_the_preview_shows_every_students_grade_and_writes_nothing(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    login_as(make_user("admin"))
    # A stricter C: all skills at Approaching or above and 75% at Meets; Leo's D becomes C.
    response = client.post("/admin/grade-bridge", data=table_form(**{"percent_4_1": "50", "points_4_1": "3.0",
                                                                     "percent_4_2": "100", "points_4_2": "2.0"}))
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Maya Lopez" in page and "Leo Chen" in page
    assert "Maya's grade is B because all 2 skills are at Meets or above." in page
    assert "0 of 2 grades would change." in page
    assert db.session.scalar(select(func.count()).select_from(GradeBridgeTable)) == 0
    assert db.session.scalar(select(func.count()).select_from(GradeBridgeChange)) == 0


def test_the_preview_counts_the_grades_that_would_change(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    login_as(make_user("admin"))
    page = client.post("/admin/grade-bridge", data=table_form(percent_3_1="50", grade_4="",
                                                              percent_4_1="")).get_data(as_text=True)
    assert "1 of 2 grades would change." in page  # Leo: half at Meets is now a C
    assert "<strong>C</strong> (changes)" in page


def test_the_preview_is_audited_as_a_disclosure_of_each_student(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = a_class_with_grades()
    login_as(make_user("admin"))
    client.post("/admin/grade-bridge", data=table_form())
    shown = set(db.session.scalars(select(AuditEvent.student_id).where(AuditEvent.action == "view.grade_bridge_preview")))
    assert shown == {s.id for s in world.students}


def test_saving_publishes_the_table_with_who_and_what_changed(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    admin = make_user("admin")
    login_as(admin)
    response = client.post("/admin/grade-bridge", data=table_form(action="save", percent_3_1="50", grade_4="", percent_4_1=""))
    assert response.status_code == 303
    row = db.session.scalar(select(GradeBridgeTable))
    assert row.table["rules"][2]["conditions"][0]["percent"] == 50 and row.changed_by_id == admin.id
    change = db.session.scalar(select(GradeBridgeChange))
    assert change.old is None and change.changed_by_id == admin.id and "1 of 2" in change.summary
    page = client.get("/admin/grade-bridge").get_data(as_text=True)
    assert "C: at least half of the skills at Meets or above." in page


def test_a_stale_save_is_refused_and_nothing_is_lost(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    login_as(make_user("admin"))
    assert client.post("/admin/grade-bridge", data=table_form(action="save", percent_3_1="60")).status_code == 303
    # A second admin loaded the page before that save (version 0) and saves their own change.
    response = client.post("/admin/grade-bridge", data=table_form(action="save", version=0, percent_3_1="70"))
    assert response.status_code == 409
    assert "Someone else saved the grade table" in response.get_data(as_text=True)
    assert db.session.scalar(select(GradeBridgeTable)).table["rules"][2]["conditions"][0]["percent"] == 60
    assert db.session.scalar(select(func.count()).select_from(GradeBridgeChange)) == 1


def test_a_second_save_names_the_version_it_saw(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    login_as(make_user("admin"))
    client.post("/admin/grade-bridge", data=table_form(action="save", percent_3_1="60"))
    assert client.post("/admin/grade-bridge",
                       data=table_form(action="save", version=1, percent_3_1="70")).status_code == 303
    assert db.session.scalar(select(GradeBridgeTable)).version == 2


def test_bad_rules_get_a_clear_message_keep_what_was_typed_and_save_nothing(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    login_as(make_user("admin"))
    response = client.post("/admin/grade-bridge", data=table_form(action="save", grade_3="A", percent_2_1="abc"))
    assert response.status_code == 422
    assert "Row 2: “abc” is not a whole number of percent." in response.get_data(as_text=True)
    response = client.post("/admin/grade-bridge", data=table_form(action="save", grade_3="A"))
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Rule 3 gives A again after B" in page
    assert 'value="A"' in page.split('name="grade_3"')[1][:40] or 'name="grade_3" size="4" maxlength="12" value="A"' in page
    response = client.post("/admin/grade-bridge", data=table_form(action="save", percent_1_1="150"))
    assert response.status_code == 422 and "not 150%" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(GradeBridgeTable)) == 0


def test_the_preview_takes_a_fixed_number_of_queries_whatever_the_school_size(client: FlaskClient, login_as,  # type: ignore[no-untyped-def]
                                                                              count_queries) -> None:
    login_as(make_user("admin"))
    counts = []
    for students in (1, 12):
        make_section(students=students, standards=3)
        client.post("/admin/grade-bridge", data=table_form())  # the same state of the session both times
        with count_queries() as queries:
            assert client.post("/admin/grade-bridge", data=table_form()).status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1]


def test_the_term_grades_download_as_csv_and_the_download_is_audited(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = a_class_with_grades()
    world.students[1].name = "=HYPERLINK(1)"
    db.session.commit()
    login_as(make_user("admin"))
    response = client.get("/admin/grade-bridge/term-grades.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "studentSourcedId,student,classSourcedId,class,term,grade,why"
    assert any(",'=HYPERLINK(1)," in line and ",D," in line for line in lines)  # neutralised, not a formula
    assert any("Maya Lopez" in line and ",B,Maya's grade is B because" in line for line in lines)
    shown = set(db.session.scalars(select(AuditEvent.student_id).where(AuditEvent.action == "view.term_grades_csv")))
    assert shown == {s.id for s in world.students}


def test_an_admin_adds_conditions_beyond_two_and_saves_a_rule_with_three(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    login_as(make_user("admin"))
    page = client.get("/admin/grade-bridge").get_data(as_text=True)
    assert 'name="percent_1_2"' in page and 'name="percent_1_3"' not in page
    assert "Add a condition to each rule" in page
    typed = table_form(action="add_condition", grade_1="A+", columns="2")
    more = client.post("/admin/grade-bridge", data=typed)
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and 'name="percent_1_3"' in html and 'value="A+"' in html  # typed kept
    assert db.session.scalar(select(func.count()).select_from(GradeBridgeTable)) == 0  # nothing saved
    html = client.post("/admin/grade-bridge", data={**typed, "columns": "4"}).get_data(as_text=True)  # at most four
    assert 'name="percent_1_4"' in html and 'name="percent_1_5"' not in html
    assert "Add a condition to each rule" not in html

    rule = {"percent_1_1": "100", "points_1_1": "3.0", "percent_1_2": "50", "points_1_2": "4.0",
            "percent_1_3": "25", "points_1_3": "4.0", "columns": "3"}
    saved = client.post("/admin/grade-bridge", data=table_form(action="save", **rule))
    assert saved.status_code == 303, unescape(saved.get_data(as_text=True))[:3000]
    stored = db.session.scalar(select(GradeBridgeTable)).table["rules"][0]["conditions"]
    assert [c["percent"] for c in stored] == [100, 50, 25]
    again = client.get("/admin/grade-bridge").get_data(as_text=True)
    assert 'name="percent_1_3"' in again and 'value="25"' in again  # the stored rule's three shown


def test_a_level_without_a_share_is_named(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    a_class_with_grades()
    login_as(make_user("admin"))
    response = client.post("/admin/grade-bridge", data=table_form(points_1_3="4.0", columns="3"))  # row 1 has a grade
    assert response.status_code == 422
    assert "Row 1, condition 3: say what share of skills" in unescape(response.get_data(as_text=True))
