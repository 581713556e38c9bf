"""Term grades in plain words for families and students, and the printable term report (issue 17, part 3)."""

from __future__ import annotations

from datetime import date
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import (
    AuditEvent,
    Enrollment,
    GradeBridgeTable,
    Section,
    SectionStandard,
    SectionTeacher,
    Term,
)
from gradebook.proficiency.grade_bridge import Condition, GradeBridge, Rule
from tests.builders import make_evidence, make_section, make_user


def maya_in_science(standards: int = 2, guardian_language: str | None = None):  # type: ignore[no-untyped-def]
    """Maya, with every standard at Meets (B by the default table), and her guardian."""
    world = make_section(students=1, standards=standards, guardians=True, name="Science 7")
    maya = world.students[0]
    maya.name = "Maya Lopez"
    world.guardians[0].language = guardian_language
    for standard in world.standards:
        make_evidence(world, maya, standard, 3)
    db.session.commit()
    return world


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def test_the_family_page_says_the_grade_and_why_in_plain_words(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    login_as(world.guardians[0])
    page = text(client.get(f"/family/children/{world.students[0].id}"))
    assert "Science 7: B" in page
    assert "Maya's grade is B because all 2 skills are at Meets or above. A grade of A needs 1 at Exceeds or above (now 0)." in page


def test_the_family_page_says_it_in_spanish_for_a_spanish_speaking_family(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science(guardian_language="es")
    login_as(world.guardians[0])
    page = text(client.get(f"/family/children/{world.students[0].id}"))
    assert "Notas del periodo" in page
    assert "La nota de Maya es B porque las 2 destrezas están en" in page


def test_the_student_home_says_your_grade(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    login_as(world.students[0])
    page = text(client.get("/portfolio"))
    assert "Your grade is B because all 2 skills are at Meets or above." in page


def test_the_grade_follows_the_schools_published_table(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    admin = make_user("admin")
    strict = GradeBridge((Rule("P", (Condition(100, 4),)),), otherwise="NY")
    db.session.add(GradeBridgeTable(school_id=world.section.school_id, table=strict.to_dict(), changed_by_id=admin.id))
    db.session.commit()
    login_as(world.guardians[0])
    page = text(client.get(f"/students/{world.students[0].id}/term-report"))
    assert "Maya's grade is NY: it does not fit the rule for a higher grade yet." in page
    assert "A grade of P needs all 2 at Exceeds or above (now 0)." in page
    assert "P: all skills at Exceeds or above." in page


def test_the_term_report_names_the_class_grade_counts_and_the_table(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    login_as(world.guardians[0])
    page = text(client.get(f"/students/{world.students[0].id}/term-report"))
    assert "Term report for Maya Lopez" in page and "Fall" in page
    assert '<td class="term-grade">B</td>' in page
    assert "A: all skills at Meets or above and at least half of the skills at Exceeds or above." in page
    assert "habits of work do not change it" in page


def test_a_teacher_prints_the_report_in_the_familys_language_or_the_one_they_ask_for(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science(guardian_language="es")
    login_as(world.teacher)
    url = f"/students/{world.students[0].id}/term-report"
    spanish = text(client.get(url))
    assert '<html lang="es">' in spanish and "Informe del periodo de Maya Lopez" in spanish
    english = text(client.get(url + "?language=en"))
    assert '<html lang="en">' in english and "Term report for Maya Lopez" in english


def test_the_term_report_is_audited_for_the_family_and_the_teacher_not_the_student(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    url = f"/students/{world.students[0].id}/term-report"
    for viewer in (world.guardians[0], world.teacher, world.students[0]):
        login_as(viewer)
        assert client.get(url).status_code == 200
    viewers = set(db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "view.term_report",
                                                                       AuditEvent.student_id == world.students[0].id)))
    assert viewers == {world.guardians[0].id, world.teacher.id}


def test_another_family_cannot_open_the_report(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    other = make_section(students=1, standards=1, guardians=True)
    login_as(other.guardians[0])
    assert client.get(f"/students/{world.students[0].id}/term-report").status_code == 404


def last_years_class(world) -> Section:  # type: ignore[no-untyped-def]
    spring = Term(name="Spring 2026", starts_on=date(2026, 1, 5), ends_on=date(2026, 5, 29), active=False)
    db.session.add(spring)
    db.session.flush()
    old = Section(term_id=spring.id, school_id=world.section.school_id, name="Science 6")
    db.session.add(old)
    db.session.flush()
    db.session.add_all([SectionTeacher(section_id=old.id, teacher_id=world.teacher.id),
                        Enrollment(section_id=old.id, student_id=world.students[0].id),
                        SectionStandard(section_id=old.id, competency_id=world.standards[0].id, position=0)])
    db.session.commit()
    return old


def test_the_report_of_an_earlier_term_shows_that_terms_classes(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    old = last_years_class(world)
    login_as(world.guardians[0])
    url = f"/students/{world.students[0].id}/term-report"
    newest = text(client.get(url))
    assert "Science 7" in newest and "Spring 2026" in newest  # the newest term, with a link to the other
    earlier = text(client.get(f"{url}?term={old.term_id}"))
    assert "Science 6" in earlier and "Science 7" not in earlier.split("<h2>")[1]
    assert "Maya's grade is I: it does not fit the rule for a higher grade yet." in earlier
    assert "1 skill has no level yet, so it counts as not reached yet." in earlier
    assert client.get(f"{url}?term=999999").status_code == 404


def test_the_report_takes_a_fixed_number_of_queries_whatever_the_number_of_classes(client: FlaskClient, login_as,  # type: ignore[no-untyped-def]
                                                                                    count_queries) -> None:
    world = maya_in_science()
    login_as(world.guardians[0])
    url = f"/students/{world.students[0].id}/term-report"
    counts = []
    for _ in range(2):
        client.get(url)  # the same state of the session both times
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        counts.append(queries.count)
        extra = make_section(students=0, standards=3, name="Art 7")
        db.session.add(Enrollment(section_id=extra.section.id, student_id=world.students[0].id))
        db.session.commit()
    assert counts[0] == counts[1]


def test_the_teachers_student_page_links_the_term_report(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = maya_in_science()
    login_as(world.teacher)
    page = text(client.get(f"/sections/{world.section.id}/students/{world.students[0].id}"))
    assert f'href="/students/{world.students[0].id}/term-report"' in page


def test_habits_of_work_are_reported_beside_the_grade_and_never_change_it(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from tests.builders import make_habit, make_habits

    world = maya_in_science()
    maya = world.students[0]
    url = f"/students/{maya.id}/term-report"
    login_as(world.guardians[0])
    before = text(client.get(url))
    habits = make_habits(world)
    for habit in habits:
        make_habit(world, maya, habit, "1")
        make_habit(world, maya, habit, "M")
        make_habit(world, maya, habit, "L")
    # Even a habit slipped into the section's standards is not counted in the grade.
    db.session.add(SectionStandard(section_id=world.section.id, competency_id=habits[0].id, position=99))
    db.session.commit()
    after = text(client.get(url))
    grade_row = after.split('<td class="term-grade">')[1].split("</tr>")[0]
    assert grade_row == before.split('<td class="term-grade">')[1].split("</tr>")[0]
    assert "B</td>" in grade_row and "all 2 skills" in grade_row
    habits_block = after.split('id="habits"')[1].split("</section>")[0]
    assert "Work habits" in habits_block and "Responsibility" in habits_block
    assert "They never change a grade." in habits_block
